"""The data model shared by every store, extractor and retriever (pydantic v2, no I/O).

Nodes: Passage, Entity, Fact, Event, Hyperedge, Episode. Edges are implied by their fields
(a Fact joins ``subject`` and ``object`` entities; a Hyperedge lists its ``members``) or written
as :class:`Edge` rows (MENTIONS, STATES, SYNONYM, EVIDENCE, NEXT, INVOLVES, CONNECTS).

>>> from graphmem.ids import passage_id
>>> p = Passage(id=passage_id("default", "hi"), text="hi")
>>> p.namespace
'default'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    namespace: str = "default"


class Passage(_Node):
    """A unit of source text. ``id`` is a content hash (see :func:`graphmem.ids.passage_id`)."""

    text: str
    source: str | None = None
    title: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    metadata: dict[str, Any] = Field(default_factory=dict)
    #: "ok" once extracted and stored; "failed" when extraction failed (kept, retried later)
    status: Literal["ok", "failed"] = "ok"
    error: str | None = None


class Entity(_Node):
    """A thing named in text, resolved across passages by its normalized name."""

    name: str
    normalized: str
    type: str | None = None
    aliases: list[str] = Field(default_factory=list)


class Fact(_Node):
    """One (subject, predicate, object) statement; ``subject``/``object`` are entity ids.

    ``valid_at``/``invalid_at``: when it held in the world. ``created_at``/``expired_at``: when
    memory learned it and when a newer fact superseded it. ``superseded_by``: the id of the fact
    that replaced it (the next value of its slot), when one did; the fact itself is kept.
    ``slot``: what the fact holds one value of (``residence``, ``diet``…), when ingest found it
    (:mod:`graphmem.ingest.slots`).
    """

    subject: str
    predicate: str
    object: str
    text: str
    confidence: float = 1.0
    valid_at: datetime | None = None
    invalid_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    expired_at: datetime | None = None
    superseded_by: str | None = None
    slot: str | None = None


class Event(_Node):
    """Something that happened, with its participants (entity ids) and time."""

    description: str
    time: datetime | None = None
    time_text: str | None = None
    participants: list[str] = Field(default_factory=list)


class Hyperedge(_Node):
    """An n-ary memory unit joining several entities (HGMem)."""

    description: str
    kind: str = "note"
    members: list[str] = Field(default_factory=list)


class Episode(_Node):
    """One observation or conversation turn at a point in time (AriGraph)."""

    text: str
    time: datetime
    speaker: str | None = None
    session: str | None = None
    source: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


EdgeType = Literal["MENTIONS", "STATES", "SYNONYM", "EVIDENCE", "NEXT", "INVOLVES", "CONNECTS"]


class Edge(BaseModel):
    """A typed edge between two node ids, with an optional weight and properties."""

    model_config = ConfigDict(extra="forbid")

    type: EdgeType
    src: str
    dst: str
    namespace: str = "default"
    weight: float = 1.0
    props: dict[str, Any] = Field(default_factory=dict)


class Document(BaseModel):
    """One text to ingest, with where it came from.

    >>> Document(text="Paris is in France.", source="wiki/Paris").source
    'wiki/Paris'
    """

    model_config = ConfigDict(extra="forbid")

    text: str
    source: str | None = None
    title: str | None = None
    time: datetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class EpisodeIn(BaseModel):
    """One episode to ingest (``Memory.add_episodes`` also takes plain dicts of these fields)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    text: str
    #: a datetime, ISO text or a written date (checked on ingest by
    #: :func:`graphmem.ingest.episodes.parse_time`, not coerced)
    time: Any = None
    speaker: str | None = None
    session: str | int | None = None
    source: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


# ---------------------------------------------------------------- results


class Neighbor(BaseModel):
    """A node next to another one, through one stored edge (or fact)."""

    id: str
    kind: str
    label: str
    edge_type: str
    weight: float = 1.0
    #: "out" when the edge goes from the asked node to this one
    direction: Literal["out", "in"] = "out"


@dataclass(frozen=True)
class Link:
    """One edge (or fact) from ``src`` to a neighbour ``id`` (:meth:`graphmem.Memory.links`)."""

    src: str
    id: str
    edge_type: str
    weight: float
    direction: Literal["out", "in"]
    #: unique per edge: the fact id, or ``TYPE:src:dst``
    key: str
    fact_id: str | None = None
    #: set for facts (their text); other links take the neighbour's label
    label: str | None = None


class FactHit(BaseModel):
    fact: Fact
    score: float
    #: how relevant, in [0, 1], on one scale for every kind (see graphmem.retrieve.relevance)
    relevance: float = 0.0
    subject_name: str
    object_name: str


class EntityHit(BaseModel):
    entity: Entity
    score: float
    #: how relevant, in [0, 1], on one scale for every kind (see graphmem.retrieve.relevance)
    relevance: float = 0.0


class PassageHit(BaseModel):
    """A ranked passage, with the facts that linked it to the question."""

    passage: Passage
    score: float
    dense_score: float | None = None
    #: how relevant, in [0, 1], on one scale for every kind (see graphmem.retrieve.relevance)
    relevance: float = 0.0
    facts: list[FactHit] = Field(default_factory=list)
    #: entity names on the way from a seed to this passage
    path: list[str] = Field(default_factory=list)


class HyperedgeHit(BaseModel):
    hyperedge: Hyperedge
    score: float
    #: how relevant, in [0, 1], on one scale for every kind (see graphmem.retrieve.relevance)
    relevance: float = 0.0


class EpisodeHit(BaseModel):
    episode: Episode
    score: float
    #: how relevant, in [0, 1], on one scale for every kind (see graphmem.retrieve.relevance)
    relevance: float = 0.0
    facts: list[FactHit] = Field(default_factory=list)
    #: the episodes around it in its session, in time order (when asked for)
    context: list[Episode] = Field(default_factory=list)


class SearchResult(BaseModel):
    """What :meth:`graphmem.Memory.search` returns."""

    question: str
    passages: list[PassageHit] = Field(default_factory=list)
    facts: list[FactHit] = Field(default_factory=list)
    entities: list[EntityHit] = Field(default_factory=list)
    hyperedges: list[HyperedgeHit] = Field(default_factory=list)
    episodes: list[EpisodeHit] = Field(default_factory=list)
    #: which strategy produced the ranking: "graph" or "dense" (fallback, no fact matched)
    mode: str = "graph"
    #: how likely, in [0, 1], the hits hold the answer (see graphmem.retrieve.relevance)
    confidence: float = 0.0
    #: ``confidence`` reached ``graphmem.retrieve.relevance.ANSWERABLE_THRESHOLD``
    answerable: bool = False
    timings_ms: dict[str, float] = Field(default_factory=dict)


class IngestReport(BaseModel):
    """What an ingest did. Re-running the same ingest reports everything as skipped."""

    passages_added: int = 0
    passages_skipped: int = 0
    passages_failed: int = 0
    entities_added: int = 0
    facts_added: int = 0
    events_added: int = 0
    synonym_edges: int = 0
    extraction_calls: int = 0
    extraction_cache_hits: int = 0
    texts_embedded: int = 0
    embedding_cache_hits: int = 0
    #: documents whose short names could not be resolved (kept as written, with a warning)
    documents_unresolved: int = 0
    usage: dict[str, float] = Field(default_factory=dict)
    seconds: float = 0.0


class EpisodeReport(IngestReport):
    """An :class:`IngestReport` with the episode counts."""

    episodes_added: int = 0
    episodes_skipped: int = 0


class DeleteReport(BaseModel):
    passages: int = 0
    entities: int = 0
    facts: int = 0
    events: int = 0
    hyperedges: int = 0
    episodes: int = 0


class Stats(BaseModel):
    namespace: str
    passages: int = 0
    entities: int = 0
    facts: int = 0
    events: int = 0
    hyperedges: int = 0
    episodes: int = 0
    edges: int = 0
    failed_passages: int = 0
