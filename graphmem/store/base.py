"""The store protocol every backend implements (SQLite, Neo4j, FalkorDB).

A store persists the nodes and edges of :mod:`graphmem.models`, caches embeddings by
(model, text hash) and extractions by (passage hash, extractor, version), answers vector searches,
and gives retrieval a read-only graph view. Every write is one :class:`WriteBatch` applied in one
transaction: all of it is stored or none of it. Every read is scoped to one namespace.

Which edges enter the PageRank graph, and with what weight, is decided once, in
:func:`graphmem.store.graph.ppr_edges`; stores only persist and return them.

>>> batch = WriteBatch(namespace="default")
>>> batch.is_empty()
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast, runtime_checkable

import numpy as np
import numpy.typing as npt

from graphmem.errors import InputError
from graphmem.ids import check_namespace, text_hash
from graphmem.models import (
    DeleteReport,
    Edge,
    Entity,
    Episode,
    Event,
    Fact,
    Hyperedge,
    LifecycleEvent,
    LifecycleState,
    Passage,
    Stats,
)

if TYPE_CHECKING:
    from graphmem.store.graph import GraphView
    from graphmem.store.lexical import TextKind

Vector = npt.NDArray[np.float32]
NodeKind = Literal["passage", "entity", "fact", "event", "hyperedge", "episode"]
NODE_KINDS: tuple[NodeKind, ...] = ("passage", "entity", "fact", "event", "hyperedge", "episode")
AnyNode = Passage | Entity | Fact | Event | Hyperedge | Episode
#: the most ids one :meth:`Store.list_ids` call returns
MAX_LIST_IDS = 10_000


#: edge types without a direction: stored once per pair, ``src < dst`` (see :func:`canonical`)
UNDIRECTED = frozenset({"SYNONYM"})


def canonical(edge: Edge) -> Edge:
    """``edge`` with the ends of an undirected type in order (``src < dst``), so two writers that
    found the same pair from either end store one edge."""
    if edge.type in UNDIRECTED and edge.src > edge.dst:
        return edge.model_copy(update={"src": edge.dst, "dst": edge.src})
    return edge


@dataclass
class WriteResult:
    """What one :meth:`Store.write` newly stored (not what it found already there): the ids of
    new nodes by kind and the number of new edges by type."""

    new_ids: dict[str, set[str]] = field(default_factory=dict)
    new_edges: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> int:
        return len(self.new_ids.get(kind, ()))


#: a node kind's name as a count field of :class:`DeleteReport` and :class:`Stats`
COUNT_FIELDS: dict[NodeKind, str] = {
    "passage": "passages",
    "entity": "entities",
    "fact": "facts",
    "event": "events",
    "hyperedge": "hyperedges",
    "episode": "episodes",
}


def count_fields(counts: Mapping[NodeKind, int] | Mapping[str, int]) -> dict[str, int]:
    """Per-kind counts as report fields.

    >>> count_fields({"passage": 2, "entity": 1})["entities"]
    1
    """
    by_kind = cast(Mapping[str, int], counts)  # the keys are kind names either way
    return {name: int(by_kind.get(kind, 0)) for kind, name in COUNT_FIELDS.items()}


def kind_of(node: AnyNode) -> NodeKind:
    """The kind name of a node model."""
    return _KIND_BY_TYPE[type(node)]


def check_list_ids(kind: str, after: object, limit: object) -> None:
    """Check :meth:`Store.list_ids` arguments; raise :class:`InputError` naming the bad one.

    >>> check_list_ids("fact", None, 0)
    Traceback (most recent call last):
    ...
    graphmem.errors.InputError: field 'limit': must be an int from 1 to 10000, got 0
    """
    if kind not in NODE_KINDS:
        raise InputError(f"unknown node kind {kind!r}: use one of {list(NODE_KINDS)}", field="kind")
    if after is not None and not isinstance(after, str):
        raise InputError(f"must be an id (str) or None, got {after!r}", field="after")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST_IDS:
        raise InputError(f"must be an int from 1 to {MAX_LIST_IDS}, got {limit!r}", field="limit")


def embed_text(node: AnyNode) -> str:
    """The text whose embedding stands for ``node`` in vector search."""
    if isinstance(node, (Passage, Episode)):
        return node.text
    if isinstance(node, Entity):
        return node.name
    if isinstance(node, Fact):
        return node.text
    return node.description


def embed_key(node: AnyNode) -> str:
    """Embedding-cache key of a node: the hash of :func:`embed_text`."""
    return text_hash(embed_text(node))


def cache_prefix(namespace: str, node_id: str | None = None) -> str:
    """Where the extraction-cache keys of ``namespace``, or of one of its nodes, start.

    >>> cache_prefix("team-a", "p:1")
    'team-a\\x1fp:1\\x1f'
    """
    return f"{namespace}\x1f" if node_id is None else f"{namespace}\x1f{node_id}\x1f"


_KIND_BY_TYPE: dict[type, NodeKind] = {
    Passage: "passage",
    Entity: "entity",
    Fact: "fact",
    Event: "event",
    Hyperedge: "hyperedge",
    Episode: "episode",
}


@dataclass
class WriteBatch:
    """Everything one transaction writes. Upsert semantics, so re-applying a batch is a no-op.

    - passages: insert, or replace status/error/metadata of an existing one (a retried passage)
    - entities: insert; an existing entity gains the new aliases
    - facts, events, hyperedges, episodes: insert, or replace the stored row with this one
      (that is how ``invalid_at``/``expired_at`` and merged hyperedge members are updated)
    - edges: insert, unique on (type, src, dst); an existing edge keeps the max weight
    - vectors: new embeddings by text hash, for ``embedding_model``
    - extractions: cache rows, key -> JSON text
    - sources: (passage id, source) pairs to record for passages already stored (a passage
      keeps every source that supplied it; a passage's own ``source`` is recorded with it)
    """

    namespace: str
    passages: list[Passage] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    hyperedges: list[Hyperedge] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    embedding_model: str | None = None
    vectors: dict[str, Vector] = field(default_factory=dict)
    extractions: dict[str, str] = field(default_factory=dict)
    sources: list[tuple[str, str]] = field(default_factory=list)

    def nodes(self) -> Iterator[AnyNode]:
        yield from self.passages
        yield from self.entities
        yield from self.facts
        yield from self.events
        yield from self.hyperedges
        yield from self.episodes

    def is_empty(self) -> bool:
        return not (
            any(True for _ in self.nodes())
            or self.edges
            or self.vectors
            or self.extractions
            or self.sources
        )


def validate_batch(batch: WriteBatch) -> None:
    """Reject a malformed batch before any statement runs (raises :class:`InputError`)."""
    ns = batch.namespace
    try:
        check_namespace(ns)
    except ValueError as exc:
        raise InputError(str(exc), field="namespace") from exc
    for node in batch.nodes():
        if node.namespace != ns:
            raise InputError(
                f"{kind_of(node)} {node.id!r} has namespace {node.namespace!r} "
                f"but the batch writes namespace {ns!r}",
                field="namespace",
            )
    for edge in batch.edges:
        if edge.namespace != ns:
            raise InputError(
                f"{edge.type} edge {edge.src!r}->{edge.dst!r} has namespace {edge.namespace!r} "
                f"but the batch writes namespace {ns!r}",
                field="namespace",
            )
    if batch.vectors and not batch.embedding_model:
        raise InputError("a batch with vectors needs embedding_model", field="embedding_model")
    if not batch.vectors:
        return
    try:
        # One stacked check instead of one per vector (ingest batches carry thousands).
        mat = np.stack([np.asarray(v, dtype=np.float32) for v in batch.vectors.values()])
    except (ValueError, TypeError):
        mat = None
    if mat is not None and mat.ndim == 2 and mat.shape[1] > 0 and np.isfinite(mat).all():
        return
    dims = set()
    for key, vec in batch.vectors.items():
        arr = np.asarray(vec)
        if arr.ndim != 1 or arr.size == 0 or not np.isfinite(arr).all():
            raise InputError(
                f"vector {key!r} must be a non-empty 1-D array of finite numbers, "
                f"got shape {arr.shape}",
                field="vectors",
            )
        dims.add(arr.size)
    raise InputError(f"vectors of one batch have different dims {sorted(dims)}", field="vectors")


@runtime_checkable
class Store(Protocol):
    """A graph store. Implementations: ``store/sqlite`` and ``store/cypher`` (neo4j, falkordb)."""

    #: the URL it was opened with, e.g. ``sqlite:///path/graph.db``
    url: str
    #: how :meth:`text_search` ranks: ``"bm25"`` (SQLite's FTS5, Neo4j's Lucene) or ``"tfidf"``
    #: (FalkorDB's RediSearch scorer, which the first stage does not fuse: see PassageSearchSettings)
    text_ranking: str

    # -- writes ------------------------------------------------------------------------------
    def write(self, batch: WriteBatch) -> WriteResult | None:
        """Apply ``batch`` in one transaction; raise :class:`TransactionFailed` and store nothing on error.

        Returns what was new (so two processes writing the same batch do not both count it), or
        None where the store cannot tell. Undirected edges are stored :func:`canonical`.
        """
        ...

    def delete_source(self, namespace: str, source: str) -> DeleteReport:
        """Delete passages and episodes of ``source`` and what only they supported (one transaction).

        A passage another source also supplied only loses ``source`` (its display ``source``
        becomes the next one); entities and facts that another passage or episode still mentions
        or states are kept.
        """
        ...

    def delete_stale(self, namespace: str, source: str, keep: Sequence[str]) -> DeleteReport:
        """Delete the passages of ``source`` whose ids are not in ``keep``, as ``delete_source``
        does (one transaction): a changed file's old chunks, after its new ones are written."""
        ...

    def sources(self, namespace: str, prefix: str = "") -> list[str]:
        """The distinct sources of passages and episodes that start with ``prefix``, sorted."""
        ...

    def delete_namespace(self, namespace: str) -> DeleteReport: ...

    # -- caches ------------------------------------------------------------------------------
    def cached_vectors(self, model: str, keys: Sequence[str]) -> dict[str, Vector]:
        """Embeddings already stored for these text hashes."""
        ...

    def cached_extractions(self, keys: Sequence[str]) -> dict[str, str]: ...

    # -- reads -------------------------------------------------------------------------------
    def existing_passages(self, namespace: str, ids: Sequence[str]) -> dict[str, str]:
        """Which of ``ids`` exist, with their status ("ok" or "failed")."""
        ...

    def get_passages(self, namespace: str, ids: Sequence[str]) -> dict[str, Passage]: ...
    def get_entities(self, namespace: str, ids: Sequence[str]) -> dict[str, Entity]: ...
    def get_facts(self, namespace: str, ids: Sequence[str]) -> dict[str, Fact]: ...
    def get_events(self, namespace: str, ids: Sequence[str]) -> dict[str, Event]: ...
    def get_hyperedges(self, namespace: str, ids: Sequence[str]) -> dict[str, Hyperedge]: ...
    def get_episodes(self, namespace: str, ids: Sequence[str]) -> dict[str, Episode]: ...

    def failed_passages(self, namespace: str, limit: int = 1000) -> list[Passage]: ...

    def list_ids(
        self, namespace: str, kind: NodeKind, *, after: str | None = None, limit: int = 1000
    ) -> list[str]:
        """One page of the ids of ``kind`` in ``namespace``: ascending, each greater than
        ``after`` (all when None), at most ``limit`` (1 to :data:`MAX_LIST_IDS`).

        Page on by passing the last id returned as ``after``; a page shorter than ``limit`` is
        the last. Raises :class:`InputError` for an unknown ``kind`` or a bad ``limit``.
        """
        ...

    def facts_of_passages(self, namespace: str, passage_ids: Sequence[str]) -> dict[str, list[str]]:
        """passage id -> ids of the facts it STATES."""
        ...

    def facts_between(
        self, namespace: str, entity_ids: Sequence[str], *, as_of: datetime | None = None
    ) -> list[Fact]:
        """Facts whose subject or object is one of ``entity_ids`` (valid at ``as_of`` if given)."""
        ...

    def edges_of(
        self, namespace: str, node_ids: Sequence[str], types: Sequence[str] | None = None
    ) -> list[Edge]:
        """Stored edges touching these nodes (either end), optionally of some types."""
        ...

    def vector_search(
        self,
        namespace: str,
        kind: NodeKind,
        queries: Vector,
        k: int,
    ) -> list[list[tuple[str, float]]]:
        """For each query row, the ``k`` nearest nodes of ``kind`` by cosine: (id, score), best first."""
        ...

    def text_search(
        self, namespace: str, query: str, k: int, kind: TextKind = "passage"
    ) -> list[tuple[str, float]]:
        """The ``k`` passages (``kind="episode"``: episodes) of ``namespace`` that best match
        ``query`` by the store's full-text index (BM25 where the engine scores so): (id, score),
        best first, higher better.

        The index follows every write and delete. The query is cut into words (see
        :mod:`graphmem.store.lexical`), so no character of it is full-text syntax; a query with
        no word, or ``k == 0``, finds nothing. Raises :class:`InputError` for a bad ``k`` or ``kind``.
        """
        ...

    def graph(self, namespace: str) -> GraphView:
        """A read-only view of the namespace's PageRank graph, kept in step with writes."""
        ...

    def adjacent(self, namespace: str, ids: Sequence[str]) -> Mapping[str, list[tuple[str, float]]]:
        """PageRank-graph neighbours of each id, with edge weights, in one round trip."""
        ...

    # -- lifecycle (see graphmem.store.states) ------------------------------------------------
    def record_lifecycle(self, namespace: str, events: Sequence[LifecycleEvent]) -> None:
        """Append ``events`` to their nodes' histories and make each event's state its node's
        recorded state (the last one given for a node wins), in one transaction."""
        ...

    def lifecycle_events(
        self, namespace: str, ids: Sequence[str]
    ) -> dict[str, list[LifecycleEvent]]:
        """The recorded events of each of ``ids``, in the order recorded (ids without any are
        left out)."""
        ...

    def lifecycle_states(self, namespace: str, ids: Sequence[str]) -> dict[str, LifecycleState]:
        """The recorded state of each of ``ids`` that has one."""
        ...

    def ids_in_state(self, namespace: str, state: LifecycleState) -> list[str]:
        """Ids whose recorded state is ``state``, ascending."""
        ...

    def record_recalls(self, namespace: str, ids: Sequence[str], at: datetime) -> None:
        """Count one retrieval of each of ``ids`` at ``at`` (the strength of facts and episodes)."""
        ...

    def recalls(self, namespace: str, ids: Sequence[str]) -> dict[str, tuple[int, datetime]]:
        """(times retrieved, last time) of each of ``ids`` retrieved at least once."""
        ...

    def stats(self, namespace: str) -> Stats: ...

    def namespaces(self) -> list[str]: ...

    def ping(self, timeout: float) -> None:
        """Raise :class:`~graphmem.errors.StoreUnavailable` unless the store answers within
        ``timeout`` seconds (a server) or its file is still there to read and write (SQLite)."""
        ...

    def close(self) -> None: ...


def node_getter(
    store: Store, kind: str
) -> Callable[[str, Sequence[str]], Mapping[str, Any]] | None:
    """``store``'s batch read of nodes of ``kind`` (``get_passages`` for "passage"...), or None
    for a kind that is no node kind."""
    name = {
        "passage": "passages",
        "entity": "entities",
        "fact": "facts",
        "event": "events",
        "hyperedge": "hyperedges",
        "episode": "episodes",
    }.get(kind)
    return getattr(store, f"get_{name}") if name is not None else None


@dataclass(frozen=True, eq=False)
class FactTable:
    """Every fact of a namespace as columns, no models: what as-of views and change checks read.

    A store that offers it (:class:`HasFactTable`) returns the same object until a write changes
    the namespace, so callers may cache what they derive from it by identity.
    """

    ids: list[str]
    subjects: list[str]
    objects: list[str]
    predicates: list[str]
    texts: list[str]
    valid_at: list[datetime | None]
    invalid_at: list[datetime | None]
    expired_at: list[datetime | None]
    #: (episode or passage, fact) of every EVIDENCE edge to a fact
    evidence: list[tuple[str, str]]


@runtime_checkable
class HasFactTable(Protocol):
    """A store that keeps :class:`FactTable` per namespace (the SQLite store)."""

    def fact_table(self, namespace: str) -> FactTable: ...


@runtime_checkable
class LendsEpisodes(Protocol):
    """A store that keeps parsed episodes and lends them without a copy (SQLite): the caller only
    reads them, and copies any it hands on (:meth:`Store.get_episodes` returns copies)."""

    def lend_episodes(self, namespace: str, ids: Sequence[str]) -> dict[str, Episode]: ...


def own_episode(ep: Episode) -> Episode:
    """A copy of ``ep`` its caller may change: ``metadata`` copied all the way down (a lent
    episode's nested lists, such as its ``times``, are the store's own)."""
    return ep.model_copy(update={"metadata": _plain_copy(ep.metadata)})


def _plain_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_copy(v) for v in value]
    return value  # JSON's other values (str, numbers, None) cannot be changed in place


@runtime_checkable
class Warmable(Protocol):
    """A store that builds a namespace's in-memory search structures on demand (SQLite)."""

    def warm(self, namespace: str) -> None: ...


def id_pages(
    store: Store, namespace: str, kind: NodeKind, limit: int = MAX_LIST_IDS
) -> Iterator[list[str]]:
    """Every id of ``kind`` in ``namespace``, in :meth:`Store.list_ids` pages of ``limit``."""
    after: str | None = None
    while True:
        page = store.list_ids(namespace, kind, after=after, limit=limit)
        if page:
            yield page
        if len(page) < limit:
            return
        after = page[-1]
