"""An extractor from its name: what ``Memory(extractor=...)``, the CLI and MCP accept."""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from typing import Any

from graphmem.errors import ConfigError
from graphmem.extract.base import Extractor

#: the extractor names (``"spacy"`` is another name of ``"nlp"``)
EXTRACTORS = ("nlp", "llm", "precomputed", "none")


def make_extractor(
    spec: Extractor | str | None,
    *,
    triples: str | PathLike[str] | None = None,
    llm: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Extractor | None:
    """An extractor from one of :data:`EXTRACTORS`, or an :class:`Extractor` instance as it is.

    ``"nlp"`` (spaCy, offline); ``"none"``; ``"precomputed"`` reads ``triples`` (a JSONL file);
    ``"llm"`` takes its endpoint from ``env``'s ``GRAPHMEM_LLM_*`` variables (pass
    ``os.environ``), overridden by the ``llm`` options that are not ``None``.
    """
    if spec is None or not isinstance(spec, str):
        return spec
    name = spec.strip().lower()
    if name in {"nlp", "spacy"}:
        from graphmem.extract.nlp import SpacyExtractor

        return SpacyExtractor()
    if name == "none":
        return None
    if name == "precomputed":
        if triples is None:
            raise ConfigError("the precomputed extractor needs a triples file (triples.jsonl)")
        from graphmem.extract.precomputed import PrecomputedExtractor

        return PrecomputedExtractor.from_file(triples)
    if name == "llm":
        from graphmem.extract.settings import LLMSettings

        return LLMSettings.from_env(env or {}).merged(**(llm or {})).extractor()
    raise ConfigError(
        f"unknown extractor {spec!r}: use {', '.join(EXTRACTORS)}, or pass an Extractor instance"
    )
