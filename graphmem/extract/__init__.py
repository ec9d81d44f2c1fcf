"""Extractors: ``nlp`` (spaCy, offline), ``precomputed`` (triples.jsonl), ``llm`` (OpenAI-compatible)."""

from graphmem.extract.base import (
    ExtractedEntity,
    ExtractedEvent,
    ExtractedFact,
    Extraction,
    Extractor,
)

__all__ = ["ExtractedEntity", "ExtractedEvent", "ExtractedFact", "Extraction", "Extractor"]
