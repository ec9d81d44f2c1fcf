# mypy: disallow-untyped-decorators=False
# (strawberry.field is untyped when it decorates a resolver)
"""GraphQL types mirroring :mod:`graphmem.models` field for field (camelCased).

Every model field appears under the same name in camelCase, so the client SDK parses answers back
into the very models :class:`graphmem.Memory` returns; ``tests/unit/api/test_schema_drift.py`` checks
it. Types add fields of their own (``neighbors``, ``subgraph``, ``progress``) after those.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from graphmem import models as m
from graphmem_api.context import Context
from graphmem_api.errors import NOT_FOUND, APIError
from graphmem_api.lifecycle import Lifecycle, node_lifecycle
from graphmem_api.limits import check_range
from graphmem_api.loaders import decode_cursor, encode_cursor, kind_of_id, page, walk
from graphmem_api.reports import (
    DeleteReport as DeleteReport,
)
from graphmem_api.reports import (
    DocumentInput as DocumentInput,
)
from graphmem_api.reports import (
    EpisodeReport as EpisodeReport,
)
from graphmem_api.reports import (
    IngestReport as IngestReport,
)
from graphmem_api.reports import (
    Job as Job,
)
from graphmem_api.reports import (
    JobError as JobError,
)
from graphmem_api.reports import (
    JobStatus as JobStatus,
)
from graphmem_api.reports import (
    RejectedDocument as RejectedDocument,
)
from graphmem_api.reports import (
    Stats as Stats,
)
from graphmem_api.reports import (
    TimeRange as TimeRange,
)
from graphmem_api.reports import (
    Viewer as Viewer,
)


@strawberry.enum(description="What a search returns besides the ranking itself.")
class Include(enum.Enum):
    PASSAGES = "passages"
    FACTS = "facts"
    ENTITIES = "entities"
    HYPEREDGES = "hyperedges"
    EPISODES = "episodes"
    #: the session neighbours of each episode hit (``EpisodeHit.context``); off by default
    CONTEXT = "context"


@strawberry.type(description="One page position.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A link from a node to a neighbour, found by a neighbors walk.")
class NeighborEdge:
    cursor: str
    id: strawberry.ID = strawberry.field(description="the neighbour's id")
    kind: str = strawberry.field(description="entity, passage, fact, event, hyperedge or episode")
    label: str = strawberry.field(description="the fact's text for RELATES, else the node's label")
    edge_type: str = strawberry.field(description="RELATES (a fact) or a stored edge type")
    weight: float
    direction: str = strawberry.field(description='"out" when the edge leaves `via`, else "in"')
    depth: int = strawberry.field(description="hops from the node the walk started at")
    via: strawberry.ID = strawberry.field(description="the node this link leaves from")
    fact_id: strawberry.ID | None = strawberry.field(description="the fact, for RELATES links")
    namespace: strawberry.Private[str]

    @strawberry.field(description="The neighbour itself (batched: no query per edge).")
    async def node(self, info: strawberry.Info[Context, None]) -> Node | None:
        found = await info.context.loaders(self.namespace).nodes.load(str(self.id))
        return to_node(found)


@strawberry.type(description="A page of a node's neighbourhood, nearest and strongest first.")
class NeighborConnection:
    edges: list[NeighborEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="links in the whole walk")
    truncated: bool = strawberry.field(description="the walk stopped at the node limit")


@strawberry.interface(description="A node of the memory graph.")
class Node:
    id: strawberry.ID
    namespace: str

    @strawberry.field(description="Nodes up to `depth` (1-3) hops away, paginated by cursor.")
    async def neighbors(
        self,
        info: strawberry.Info[Context, None],
        depth: int = 1,
        first: int = 20,
        after: str | None = None,
    ) -> NeighborConnection:
        connection: NeighborConnection = await neighbor_connection(
            info.context, self.namespace, str(self.id), depth, first, after
        )
        return connection

    @strawberry.field(description="Its state (active, superseded, merged, archived) and history.")
    async def lifecycle(self, info: strawberry.Info[Context, None]) -> Lifecycle | None:
        return await node_lifecycle(info.context, self.namespace, str(self.id))


@strawberry.type(description="A unit of source text.")
class Passage(Node):
    text: str
    source: str | None
    title: str | None
    created_at: datetime
    metadata: JSON
    status: str = strawberry.field(description='"ok", or "failed" when extraction failed')
    error: str | None


@strawberry.type(description="A thing named in text, resolved across passages.")
class Entity(Node):
    name: str
    normalized: str
    type: str | None
    aliases: list[str]


@strawberry.type(description="One (subject, predicate, object) statement between two entities.")
class Fact(Node):
    subject: strawberry.ID
    predicate: str
    object: strawberry.ID
    text: str
    confidence: float
    valid_at: datetime | None
    invalid_at: datetime | None
    created_at: datetime
    expired_at: datetime | None
    superseded_by: strawberry.ID | None = strawberry.field(
        default=None, description="The fact that replaced this one (the next value of its slot)."
    )
    slot: str | None = strawberry.field(
        default=None, description="What the fact holds one value of (residence, diet...)."
    )

    @strawberry.field(description="The subject entity (batched).")
    async def subject_entity(self, info: strawberry.Info[Context, None]) -> Entity | None:
        found = await info.context.loaders(self.namespace).nodes.load(str(self.subject))
        return _entity(found) if isinstance(found, m.Entity) else None

    @strawberry.field(description="The object entity (batched).")
    async def object_entity(self, info: strawberry.Info[Context, None]) -> Entity | None:
        found = await info.context.loaders(self.namespace).nodes.load(str(self.object))
        return _entity(found) if isinstance(found, m.Entity) else None


@strawberry.type(description="Something that happened, with participants and a time.")
class Event(Node):
    description: str
    time: datetime | None
    time_text: str | None
    participants: list[strawberry.ID]


@strawberry.type(description="An n-ary memory unit joining several entities.")
class Hyperedge(Node):
    description: str
    kind: str
    members: list[strawberry.ID]


@strawberry.type(description="One observation or conversation turn at a point in time.")
class Episode(Node):
    text: str
    time: datetime
    speaker: str | None
    session: str | None
    source: str | None
    metadata: JSON


# --------------------------------------------------------------------------- converters


def _passage(p: m.Passage) -> Passage:
    return Passage(
        id=strawberry.ID(p.id),
        namespace=p.namespace,
        text=p.text,
        source=p.source,
        title=p.title,
        created_at=p.created_at,
        metadata=cast(JSON, p.metadata),
        status=p.status,
        error=p.error,
    )


def _entity(e: m.Entity) -> Entity:
    return Entity(
        id=strawberry.ID(e.id),
        namespace=e.namespace,
        name=e.name,
        normalized=e.normalized,
        type=e.type,
        aliases=list(e.aliases),
    )


def _fact(f: m.Fact) -> Fact:
    return Fact(
        id=strawberry.ID(f.id),
        namespace=f.namespace,
        subject=strawberry.ID(f.subject),
        predicate=f.predicate,
        object=strawberry.ID(f.object),
        text=f.text,
        confidence=f.confidence,
        valid_at=f.valid_at,
        invalid_at=f.invalid_at,
        created_at=f.created_at,
        expired_at=f.expired_at,
        superseded_by=None if f.superseded_by is None else strawberry.ID(f.superseded_by),
        slot=f.slot,
    )


def _event(v: m.Event) -> Event:
    return Event(
        id=strawberry.ID(v.id),
        namespace=v.namespace,
        description=v.description,
        time=v.time,
        time_text=v.time_text,
        participants=[strawberry.ID(x) for x in v.participants],
    )


def _hyperedge(h: m.Hyperedge) -> Hyperedge:
    return Hyperedge(
        id=strawberry.ID(h.id),
        namespace=h.namespace,
        description=h.description,
        kind=h.kind,
        members=[strawberry.ID(x) for x in h.members],
    )


def _episode(e: m.Episode) -> Episode:
    return Episode(
        id=strawberry.ID(e.id),
        namespace=e.namespace,
        text=e.text,
        time=e.time,
        speaker=e.speaker,
        session=e.session,
        source=e.source,
        metadata=cast(JSON, e.metadata),
    )


def to_node(node: object) -> Node | None:
    """The GraphQL type of any node model (``None`` stays ``None``)."""
    if isinstance(node, m.Passage):
        return _passage(node)
    if isinstance(node, m.Entity):
        return _entity(node)
    if isinstance(node, m.Fact):
        return _fact(node)
    if isinstance(node, m.Event):
        return _event(node)
    if isinstance(node, m.Hyperedge):
        return _hyperedge(node)
    if isinstance(node, m.Episode):
        return _episode(node)
    return None


to_passage, to_entity, to_fact, to_episode = _passage, _entity, _fact, _episode
to_hyperedge = _hyperedge


# ------------------------------------------------------------------------------ results

RELEVANCE = "in [0, 1], one scale for every kind of hit, non-increasing down its list"


@strawberry.type
class FactHit:
    fact: Fact
    score: float
    relevance: float = strawberry.field(description=RELEVANCE)
    subject_name: str
    object_name: str


@strawberry.type
class EntityHit:
    entity: Entity
    score: float
    relevance: float = strawberry.field(description=RELEVANCE)


@strawberry.type(description="A ranked passage with the facts that linked it to the question.")
class PassageHit:
    passage: Passage
    score: float
    dense_score: float | None
    relevance: float = strawberry.field(description=RELEVANCE)
    facts: list[FactHit]
    path: list[str] = strawberry.field(description="entity names from a seed to this passage")


@strawberry.type
class HyperedgeHit:
    hyperedge: Hyperedge
    score: float
    relevance: float = strawberry.field(description=RELEVANCE)


@strawberry.type
class EpisodeHit:
    episode: Episode
    score: float
    relevance: float = strawberry.field(description=RELEVANCE)
    facts: list[FactHit]
    context: list[Episode] = strawberry.field(
        description="the episodes around it in its session, in time order (when asked for)"
    )


@strawberry.type(description="A node of the subgraph behind a search result.")
class SubgraphNode:
    id: strawberry.ID
    kind: str
    label: str
    score: float | None = strawberry.field(description="its rank score, when it was ranked")


@strawberry.type(description="An edge of the subgraph behind a search result.")
class SubgraphEdge:
    source: strawberry.ID
    target: strawberry.ID
    type: str = strawberry.field(description="RELATES (a fact), STATES, CONNECTS or EVIDENCE")
    label: str
    weight: float
    fact_id: strawberry.ID | None


@strawberry.type(description="The passages, facts and entities a search used, as a graph.")
class Subgraph:
    nodes: list[SubgraphNode]
    edges: list[SubgraphEdge]


@strawberry.type(description="What a search found, ranked, with the subgraph behind it.")
class SearchResult:
    question: str
    passages: list[PassageHit]
    facts: list[FactHit]
    entities: list[EntityHit]
    hyperedges: list[HyperedgeHit]
    episodes: list[EpisodeHit]
    mode: str = strawberry.field(description='"graph", or "dense" when no fact matched')
    confidence: float = strawberry.field(
        description="how likely, in [0, 1], the hits hold the answer"
    )
    answerable: bool = strawberry.field(
        description="confidence reached the documented threshold (else: probably not in memory)"
    )
    timings_ms: JSON
    subgraph: Subgraph


async def neighbor_connection(
    ctx: Context, namespace: str, node_id: str, depth: int, first: int, after: str | None
) -> NeighborConnection:
    """One page of the walk from ``node_id`` (used by ``Query.neighbors`` and ``Node.neighbors``)."""
    limits = ctx.limits
    check_range("depth", depth, 1, limits.max_neighbor_depth)
    check_range("first", first, 1, limits.max_page_size)
    cursor = decode_cursor(after, namespace, node_id, depth) if after is not None else None
    loaders = ctx.loaders(namespace)
    if await loaders.nodes.load(node_id) is None:
        raise APIError(f"no node with id {node_id!r} in namespace {namespace!r}", NOT_FOUND)
    steps, truncated = await walk(loaders, node_id, depth, limits.max_walk_nodes)
    shown, more = page(steps, first, cursor)
    edges = [
        NeighborEdge(
            cursor=encode_cursor(s, namespace, node_id, depth),
            id=strawberry.ID(s.link.id),
            kind=kind_of_id(s.link.id),
            label=s.label,
            edge_type=s.link.edge_type,
            weight=s.link.weight,
            direction=s.link.direction,
            depth=s.depth,
            via=strawberry.ID(s.link.src),
            fact_id=strawberry.ID(s.link.fact_id) if s.link.fact_id else None,
            namespace=namespace,
        )
        for s in shown
    ]
    return NeighborConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
        total_count=len(steps),
        truncated=truncated,
    )
