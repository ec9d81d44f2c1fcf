"""An extractor from its name (what ``Memory(extractor=...)`` and the CLI accept)."""

from __future__ import annotations

from graphmem.errors import ConfigError
from graphmem.extract.base import Extractor


def make_extractor(spec: Extractor | str | None) -> Extractor | None:
    """``"nlp"`` (spaCy, offline), ``"none"``, or an :class:`Extractor` instance.

    The ``precomputed`` and ``llm`` extractors need arguments (a file; an endpoint): build them
    and pass the instance, or use the CLI, which does.
    """
    if spec is None or not isinstance(spec, str):
        return spec
    if spec in {"nlp", "spacy"}:
        from graphmem.extract.nlp import SpacyExtractor

        return SpacyExtractor()
    if spec == "none":
        return None
    raise ConfigError(
        f"unknown extractor {spec!r}: use 'nlp' or 'none', or pass an Extractor instance "
        "(PrecomputedExtractor.from_file(...), LLMExtractor(...))"
    )
