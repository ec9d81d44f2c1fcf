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
from typing import Annotated, Any, Literal, NamedTuple, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from graphmem.timeparse import standard_utc


def utcnow() -> datetime:
    return datetime.now(UTC)


Time = Annotated[datetime, AfterValidator(standard_utc)]  # a stored time: offset 0 is UTC
RELEVANCE = Field(0.0, description="how relevant, in [0, 1], one scale for every kind")


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    namespace: str = "default"


class Passage(_Node):
    """A unit of source text. ``id`` is a content hash (see :func:`graphmem.ids.passage_id`)."""

    text: str
    source: str | None = None
    title: str | None = None
    created_at: Time = Field(default_factory=utcnow)
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
    valid_at: Time | None = None
    invalid_at: Time | None = None
    created_at: Time = Field(default_factory=utcnow)
    expired_at: Time | None = None
    superseded_by: str | None = None
    slot: str | None = None


class Event(_Node):
    """Something that happened, with its participants (entity ids) and time."""

    description: str
    time: Time | None = None
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
    time: Time
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


# ---------------------------------------------------------------- lifecycle

#: where a fact, episode or unit stands: in search (active), ended by a newer fact
#: (superseded), folded into another node (merged), or out of default search (archived)
LifecycleState = Literal["active", "superseded", "merged", "archived"]
HIDDEN_STATES: tuple[LifecycleState, ...] = ("archived", "merged")  # out of default search
LIFECYCLE_STATES: tuple[LifecycleState, ...] = ("active", "superseded", "merged", "archived")


class LifecycleEvent(BaseModel):
    """One step in a node's life: what happened, when, why, and by which policy or actor.

    ``recorded`` is False for the steps read off the node itself (its ``created_at``, a fact's
    ``expired_at``), which no store row records.
    """

    model_config = ConfigDict(extra="forbid")

    node_id: str
    kind: str
    #: "stored", "superseded", "archived", "restored", "merged", "unmerged", "folded", ...
    event: str
    #: the node's state after this step
    state: LifecycleState
    at: datetime
    reason: str | None = None
    #: the policy or actor: "forget:strength<0.1", "restore", "temporal", "consolidate"...
    actor: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    recorded: bool = True


class Lifecycle(BaseModel):
    """A node's state, its strength (facts and episodes) and its history, oldest step first."""

    id: str
    kind: str
    state: LifecycleState = "active"
    strength: float | None = None
    events: list[LifecycleEvent] = Field(default_factory=list)


class ForgetReport(BaseModel):
    """What :meth:`graphmem.Memory.forget` archived (or would, with ``dry_run``)."""

    policy: str
    dry_run: bool = False
    #: candidates weighed (active facts and episodes)
    considered: int = 0
    archived: dict[str, int] = Field(default_factory=dict)
    ids: list[str] = Field(default_factory=list)


class ConsolidateReport(BaseModel):
    """What :meth:`graphmem.Memory.consolidate` merged (or would, with ``dry_run``)."""

    dry_run: bool = False
    merged_entities: int = 0
    folded_facts: int = 0
    #: session summaries written (``summaries=True``)
    session_units: int = 0
    #: one per merge: ``{"id", "into", "kind", "evidence"}``
    merges: list[dict[str, Any]] = Field(default_factory=list)


class RestoreReport(BaseModel):
    """What :meth:`graphmem.Memory.restore` brought back into default search."""

    restored: int = 0
    ids: list[str] = Field(default_factory=list)


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
    relevance: float = RELEVANCE
    subject_name: str
    object_name: str


class EntityHit(BaseModel):
    entity: Entity
    score: float
    relevance: float = RELEVANCE


class PassageHit(BaseModel):
    """A ranked passage, with the facts that linked it to the question."""

    passage: Passage
    score: float
    dense_score: float | None = None
    relevance: float = RELEVANCE
    facts: list[FactHit] = Field(default_factory=list)
    #: entity names on the way from a seed to this passage
    path: list[str] = Field(default_factory=list)


class HyperedgeHit(BaseModel):
    hyperedge: Hyperedge
    score: float
    relevance: float = RELEVANCE


class EpisodeHit(BaseModel):
    episode: Episode
    score: float
    relevance: float = RELEVANCE
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


Report = TypeVar("Report", bound=BaseModel)


def add_reports(a: Report, b: Report) -> Report:
    """Two reports of one kind added up (counts, seconds and usage by key): the totals of an
    ingest run in parts (the client's batches, MCP's).

    >>> add_reports(EpisodeReport(episodes_added=1, usage={"calls": 1}),
    ...             EpisodeReport(episodes_added=2, usage={"calls": 2})).episodes_added
    3
    """
    data: dict[str, Any] = {}
    for name in type(a).model_fields:
        x, y = getattr(a, name), getattr(b, name)
        data[name] = (
            {k: x.get(k, 0) + y.get(k, 0) for k in {*x, *y}} if isinstance(x, dict) else x + y
        )
    return type(a)(**data)


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


# -- reading what the memory returns: the one definition every surface (CLI, MCP, GraphQL, the
# client, the plug-ins) and the core use; graphmem.validity and the retrievers re-export these.


def utc(value: datetime) -> datetime:
    """``value`` with UTC attached when it has no time zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def valid_at(fact: Fact, when: datetime) -> bool:
    """Did ``fact`` hold in the world at ``when``? (``valid_at`` <= when < ``invalid_at``)"""
    t = utc(when)
    if fact.valid_at is not None and utc(fact.valid_at) > t:
        return False
    return fact.invalid_at is None or utc(fact.invalid_at) > t


def is_current(fact: Fact) -> bool:
    """Not ended in the world and not superseded in memory."""
    return fact.invalid_at is None and fact.expired_at is None


class FactWording(NamedTuple):
    """A fact in words, the same on every surface (the CLI's lines, MCP's text)."""

    #: ``(subject) -[predicate]-> (object)``
    text: str
    #: when it held: ``since D``, ``since D, ended E``, ``superseded E`` or ``""``
    when: str
    #: not ended in the world and not superseded in memory
    current: bool


def day(value: datetime) -> str:
    """A time as its UTC day, ``2024-03-01``."""
    return f"{utc(value):%Y-%m-%d}"


def validity(fact: Fact) -> str:
    """When ``fact`` held: ``since D``, ``since D, ended E``, ``superseded E`` ('' if unknown)."""
    parts = [f"since {day(fact.valid_at)}"] if fact.valid_at is not None else []
    if fact.invalid_at is not None:
        parts.append(f"ended {day(fact.invalid_at)}")
    elif fact.expired_at is not None:
        # memory learned something newer, though no end in the world was stated
        parts.append(f"superseded {day(fact.expired_at)}")
    return ", ".join(parts)


def fact_wording(fact: Fact, subject: str, obj: str) -> FactWording:
    """``fact`` in words, given its subject's and object's names.

    A value object (a date, a quantity: stored as a loop on the subject, the value kept in the
    fact's text) is shown bare, as the text says it.

    >>> f = Fact(id="f:1", subject="e:a", predicate="lives in", object="e:b", text="",
    ...          valid_at=datetime(2020, 1, 10), invalid_at=datetime(2024, 3, 1))
    >>> fact_wording(f, "Ada", "Lisbon")  # doctest: +NORMALIZE_WHITESPACE
    FactWording(text='(Ada) -[lives in]-> (Lisbon)', when='since 2020-01-10, ended 2024-03-01',
                current=False)
    """
    marker = f" {fact.predicate} "
    if fact.subject == fact.object and marker in fact.text:
        shown = fact.text.split(marker, 1)[1]
    else:
        shown = f"({obj})"
    text = f"({subject}) -[{fact.predicate}]-> {shown}"
    return FactWording(text, validity(fact), is_current(fact))


Hit = PassageHit | EpisodeHit


def mixed(result: SearchResult, k: int | None = None) -> list[Hit]:
    """Passages and episodes in one list, by relevance (ties: passages first, then each kind's
    rank), at most ``k`` (all when ``None``)."""
    tagged: list[tuple[float, int, int, Hit]] = [
        (-h.relevance, 0, i, h) for i, h in enumerate(result.passages)
    ]
    tagged += [(-h.relevance, 1, i, h) for i, h in enumerate(result.episodes)]
    tagged.sort(key=lambda t: t[:3])
    hits: list[Hit] = [t[3] for t in tagged]
    return hits if k is None else hits[:k]


def top_facts(
    result: SearchResult, k: int, *, as_of: datetime | None = None, include_ended: bool = False
) -> list[FactHit]:
    """The ``k`` most relevant facts of ``result`` and of its episodes, each once, those that
    hold (at ``as_of``, else now) first; ended ones only with ``include_ended``
    (what :meth:`graphmem.Memory.search_facts` returns).

    >>> now = Fact(id="f:1", subject="e:a", predicate="p", object="e:b", text="a p b")
    >>> old = now.model_copy(update={"id": "f:2", "invalid_at": datetime(2020, 1, 1)})
    >>> hits = [FactHit(fact=f, score=1, relevance=r, subject_name="a", object_name="b")
    ...         for f, r in ((old, 0.9), (now, 0.5))]
    >>> r = SearchResult(question="q", facts=hits)
    >>> [h.fact.id for h in top_facts(r, 5)], [h.fact.id for h in top_facts(r, 5, include_ended=True)]
    (['f:1'], ['f:1', 'f:2'])
    """
    hits = list(result.facts) + [h for ep in result.episodes for h in ep.facts]
    seen: set[str] = set()
    kept: list[tuple[bool, FactHit]] = []
    # by relevance: facts of the result and of its episodes come from different rankers
    for hit in sorted(hits, key=lambda h: -h.relevance):
        if hit.fact.id in seen:
            continue
        seen.add(hit.fact.id)
        holds = valid_at(hit.fact, as_of) if as_of is not None else is_current(hit.fact)
        if holds or include_ended:
            kept.append((not holds, hit))
    # the k most relevant, those that hold first (stable: by relevance within each group)
    return [hit for _, hit in sorted(kept[:k], key=lambda pair: pair[0])]
