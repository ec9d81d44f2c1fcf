"""The extractor protocol: passages in, entities / facts / events out.

An extractor never raises for one bad passage: it returns an :class:`Extraction` with ``error``
set, and the ingest keeps that passage marked ``failed`` for a later retry.

>>> class Nothing:
...     name, version, cacheable = "nothing", "1", False
...     def extract(self, passages):
...         return [Extraction() for _ in passages]
>>> isinstance(Nothing(), Extractor)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from graphmem.models import Passage


class ExtractedEntity(BaseModel):
    name: str
    type: str | None = None


class ExtractedFact(BaseModel):
    subject: str
    predicate: str
    object: str
    confidence: float = 1.0
    #: ISO date/time text when the statement says when it held
    valid_at: str | None = None


class ExtractedEvent(BaseModel):
    description: str
    #: the time as written ("3 May 2021", "yesterday"); resolved by the ingest
    time: str | None = None
    participants: list[str] = Field(default_factory=list)


class Extraction(BaseModel):
    entities: list[ExtractedEntity] = Field(default_factory=list)
    facts: list[ExtractedFact] = Field(default_factory=list)
    events: list[ExtractedEvent] = Field(default_factory=list)
    #: set when extraction failed for this passage; the other fields are then empty
    error: str | None = None
    #: items fixed up (e.g. a 4-part triple) and items dropped as unusable
    repaired: int = 0
    dropped: int = 0
    #: token usage for LLM extractors: prompt_tokens, completion_tokens, cached_tokens, calls
    usage: dict[str, float] = Field(default_factory=dict)


@runtime_checkable
class Extractor(Protocol):
    """Turns passages into extractions, one per passage, in order."""

    #: part of the cache key, with ``version``
    name: str
    version: str
    #: False for extractors whose output is free to recompute (precomputed, tests)
    cacheable: bool

    def extract(self, passages: Sequence[Passage]) -> list[Extraction]: ...
