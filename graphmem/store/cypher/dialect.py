"""What a Cypher server must offer the Cypher store: the dialect protocol.

The store (:mod:`graphmem.store.cypher.store`) is written once, against this protocol; a dialect
(:mod:`~graphmem.store.cypher.neo4j`, :mod:`~graphmem.store.cypher.falkordb`) runs statements on its
server and owns the few things the two servers do differently: index DDL, vector search,
bulk reads of the whole graph, transactions and error translation. Statements come from
``cypher/<dialect>/`` through :func:`graphmem.store.cypher.queries.load`.

A unit of work is a function of a :class:`Transaction`, run by :meth:`Dialect.transaction`:

- neo4j runs it in one managed write transaction (retried on transient errors), so its reads see
  its own writes;
- falkordb runs its reads at once and sends all its writes, at the end, as one query (FalkorDB
  applies one query atomically and has no multi-query transactions), so its reads do **not** see
  its own writes. Work functions therefore read first, then write.

>>> from graphmem.store.cypher.queries import Statement
>>> tx = RecordingTransaction()
>>> tx.write(Statement("demo", "RETURN $x", frozenset({"x"})), {"x": 1})
>>> [(s.name, p) for s, p in tx.writes]
[('demo', {'x': 1})]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from graphmem.store.cypher.queries import Statement
from graphmem.store.graph import EDGE_WEIGHTS

T = TypeVar("T")
Row = tuple[Any, ...]
Params = Mapping[str, Any]

#: node kind -> label
KIND_LABELS: dict[str, str] = {
    "passage": "Passage",
    "entity": "Entity",
    "fact": "Fact",
    "event": "Event",
    "hyperedge": "Hyperedge",
    "episode": "Episode",
}
#: the relationship a fact adds between its subject and object entities
FACT_REL = "RELATES"
#: seconds one statement may wait for its reply (a store URL's ``?timeout=`` overrides it): a
#: server that is down or frozen fails the call with StoreUnavailable within it instead of
#: blocking, with room for the largest single query graphmem sends (a 50,000-node page of a
#: graph read, a batch write) on a busy machine
DEFAULT_TIMEOUT = 30.0
#: the weight of each relationship type in the PageRank graph (facts weigh 1; the other types
#: as graphmem.store.graph.EDGE_WEIGHTS decides)
PPR_WEIGHTS: dict[str, float] = {FACT_REL: 1.0, **EDGE_WEIGHTS}


class Transaction(Protocol):
    """One unit of work on the server (see the module docstring for when writes become visible)."""

    def read(self, stmt: Statement, params: Params) -> list[Row]: ...

    def write(self, stmt: Statement, params: Params) -> None: ...


@runtime_checkable
class Dialect(Protocol):
    """One Cypher server flavour. Every method translates server errors to graphmem's."""

    #: "neo4j" or "falkordb": the folder under cypher/ its statements come from
    name: str
    #: the server's URL without credentials (for messages)
    display_url: str
    #: how its full-text index ranks (``Store.text_ranking``)
    text_ranking: str

    def statement(self, name: str, **templates: str) -> Statement:
        """The statement ``name`` of this dialect, its template placeholders filled."""
        ...

    def read(self, stmt: Statement, params: Params) -> list[Row]:
        """Run a read-only statement and return its rows."""
        ...

    def transaction(self, work: Callable[[Transaction], T], *, what: str) -> T:
        """Run ``work`` as one unit of work; raise :class:`TransactionFailed` if it fails."""
        ...

    def ensure_schema(self) -> None:
        """Create the constraints and indexes the store needs (idempotent)."""
        ...

    def ensure_vector_index(self, label: str, dim: int) -> None:
        """Create the vector index over ``label``'s ``embedding`` property (idempotent)."""
        ...

    def vector_query(
        self, label: str, queries: Sequence[Sequence[float]], fetch: int
    ) -> list[list[tuple[str, str, float]]]:
        """For each query, up to ``fetch`` nearest ``label`` nodes of any namespace, best first:
        (namespace, id, cosine similarity). The store filters by namespace and asks again with a
        larger ``fetch`` when too few were of its namespace."""
        ...

    def vector_scan(
        self, namespace: str, label: str, queries: Sequence[Sequence[float]], k: int
    ) -> list[list[tuple[str, float]]]:
        """Exact nearest ``label`` nodes of one namespace, by a scan: (id, cosine), best first."""
        ...

    def text_query(
        self, namespace: str, terms: Sequence[str], k: int, label: str = "Passage"
    ) -> list[tuple[str, float]]:
        """The ``k`` nodes labelled ``label`` (Passage or Episode) of ``namespace`` best matching
        any of ``terms`` (plain words, see :mod:`graphmem.store.lexical`) in the server's
        full-text index: (id, score), best first."""
        ...

    def adjacency(
        self, namespace: str, ids: Sequence[str], weights: Mapping[str, float]
    ) -> list[tuple[str, str, float]]:
        """PageRank neighbours of ``ids`` in one round trip: (id, neighbour, weight)."""
        ...

    def degrees(self, namespace: str, ids: Sequence[str]) -> list[tuple[str, float]]:
        """(id, number of relationships) for the ids that exist, in one round trip, without
        walking them where the backend can (an upper bound of the PageRank degree)."""
        ...

    def graph_edges(
        self, namespace: str, weights: Mapping[str, float]
    ) -> Iterator[list[tuple[str, str, float]]]:
        """Every PageRank edge of the namespace, in pages of (src id, dst id, weight)."""
        ...

    def graph_nodes(self, namespace: str, kinds: Sequence[str]) -> Iterator[list[str]]:
        """Ids of the namespace's nodes of these kinds, in pages."""
        ...

    def ping(self, timeout: float) -> None:
        """Raise StoreUnavailable unless the server answers within ``timeout`` seconds."""
        ...

    def close(self) -> None: ...


@dataclass
class RecordingTransaction:
    """A transaction that only records its writes (used to build FalkorDB's one-query batches)."""

    reader: Callable[[Statement, Params], list[Row]] | None = None
    writes: list[tuple[Statement, dict[str, Any]]] = field(default_factory=list)

    def read(self, stmt: Statement, params: Params) -> list[Row]:
        if self.reader is None:
            raise RuntimeError("this transaction cannot read")
        return self.reader(stmt, params)

    def write(self, stmt: Statement, params: Params) -> None:
        stmt.check_params(params)
        self.writes.append((stmt, dict(params)))
