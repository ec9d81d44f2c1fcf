"""The PageRank graph: which stored edges enter it, and an in-memory projection kept in step.

Nodes are entities, passages, events, hyperedges and episodes; facts are edges between their
subject and object entities (as in HippoRAG). The graph is undirected and weighted.

>>> from graphmem.models import Fact
>>> proj = GraphProjection()
>>> proj.add_edges([("e:a", "e:b", 1.0), ("p:1", "e:a", 1.0)])
>>> view = proj.view()
>>> view.num_nodes, sorted(view.node_id(i) for i in view.neighbors([view.index_of("e:a")])[0][0])
(3, ['e:b', 'p:1'])
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from graphmem.models import Edge, Fact

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
WeightedEdge = tuple[str, str, float]

#: weight of each stored edge type in the PageRank graph; types not listed do not enter it
EDGE_WEIGHTS: dict[str, float] = {
    "MENTIONS": 1.0,  # passage - entity (HippoRAG 2 "context edges")
    "SYNONYM": 1.0,  # scaled by the similarity score stored as the edge weight
    "CONNECTS": 1.0,  # hyperedge - member entity
    "INVOLVES": 1.0,  # event - participant
    "EVIDENCE": 1.0,  # episode - entity / fact it produced
    "NEXT": 0.5,  # episode - next episode in its session
}


def ppr_edges(facts: Iterable[Fact], edges: Iterable[Edge]) -> list[WeightedEdge]:
    """The PageRank edges that stored facts and edges contribute.

    Facts that have expired or been invalidated are left out: the current graph reflects the
    current world (``as_of`` queries filter separately).
    """
    return ppr_edge_rows(
        ((f.subject, f.object, f.invalid_at is None and f.expired_at is None) for f in facts),
        ((e.type, e.src, e.dst, e.weight) for e in edges),
    )


def ppr_edge_rows(
    facts: Iterable[tuple[str, str, bool]], edges: Iterable[tuple[str, str, str, float]]
) -> list[WeightedEdge]:
    """:func:`ppr_edges` over plain rows, (subject, object, is current) and (type, src, dst,
    weight): the one place what enters the graph is decided (stores load rows, not models)."""
    out: list[WeightedEdge] = [(s, o, 1.0) for s, o, current in facts if current and s != o]
    weights = EDGE_WEIGHTS
    for kind, src, dst, weight in edges:
        base = weights.get(kind)
        if base is None or src == dst:
            continue
        if kind == "EVIDENCE" and dst.startswith("f:"):
            continue  # facts are not nodes of the PageRank graph
        out.append((src, dst, base * weight))
    return out


@runtime_checkable
class GraphView(Protocol):
    """A read-only graph with integer node indices, as the PageRank engines need it."""

    @property
    def num_nodes(self) -> int: ...

    def index_of(self, node_id: str) -> int | None: ...

    def node_id(self, index: int) -> str: ...

    def neighbors(self, nodes: Sequence[int]) -> list[tuple[IntArray, FloatArray]]:
        """Neighbour indices and edge weights of each node, fetched together (one round trip)."""
        ...

    def matrix(self) -> sp.csr_matrix:
        """The whole symmetric weighted adjacency matrix (for the exact engine)."""
        ...


class CSRGraph:
    """An immutable in-memory graph view over a CSR matrix."""

    def __init__(self, ids: Sequence[str], index: dict[str, int], adj: sp.csr_matrix) -> None:
        self._ids = ids
        self._index = index
        self._adj = adj
        self._indptr = adj.indptr
        self._indices = adj.indices.astype(np.int64, copy=False)
        self._data = adj.data.astype(np.float64, copy=False)
        # derived once per view (a view never changes): PageRank's walk matrix, ids by kind
        self._transition: tuple[sp.csr_matrix, npt.NDArray[np.bool_]] | None = None
        self._by_prefix: dict[str, IntArray] = {}
        self._masks: dict[str, npt.NDArray[np.bool_]] = {}
        self._degrees: FloatArray | None = None
        self._derive_lock = threading.Lock()

    @property
    def num_nodes(self) -> int:
        return int(self._adj.shape[0])

    def with_matrix(self, adj: sp.csr_matrix) -> CSRGraph:
        """The same nodes over other edge weights (an as-of view): the id list, the index and
        the ids by kind are shared, not rebuilt node by node."""
        if adj.shape != self._adj.shape:
            raise ValueError(f"expected a {self._adj.shape} matrix, got {adj.shape}")
        view = CSRGraph(self._ids, self._index, adj)
        with self._derive_lock:
            view._by_prefix = dict(self._by_prefix)
            view._masks = dict(self._masks)
        return view

    def index_of(self, node_id: str) -> int | None:
        i = self._index.get(node_id)
        return i if i is not None and i < self.num_nodes else None

    def node_id(self, index: int) -> str:
        return self._ids[index]

    def neighbors(self, nodes: Sequence[int]) -> list[tuple[IntArray, FloatArray]]:
        out = []
        for u in nodes:
            a, b = self._indptr[u], self._indptr[u + 1]
            out.append((self._indices[a:b], self._data[a:b]))
        return out

    def matrix(self) -> sp.csr_matrix:
        return self._adj

    def degrees(
        self, nodes: Sequence[int] | None = None, at_least: Sequence[float] | None = None
    ) -> FloatArray:
        """Weighted degree of every node, or of ``nodes`` (the full array is computed once).
        Always exact here, so ``at_least`` (thresholds a remote view may answer against) is
        unused."""
        with self._derive_lock:
            if self._degrees is None:
                self._degrees = np.asarray(self._adj.sum(axis=1)).ravel()
            full = self._degrees
        return full if nodes is None else full[np.asarray(nodes, dtype=np.int64)]

    def transition(self) -> tuple[sp.csr_matrix, npt.NDArray[np.bool_]]:
        """PageRank's column-stochastic walk matrix and dangling mask, computed once per view."""
        with self._derive_lock:
            if self._transition is None:
                self._transition = transition_matrix(self._adj)
            return self._transition

    def prefix_indices(self, prefix: str) -> IntArray:
        """Indices of the nodes whose id starts with ``prefix`` (``"p:"``: passages), ascending."""
        with self._derive_lock:
            found = self._by_prefix.get(prefix)
            if found is None:
                ids = self._ids
                found = np.fromiter(
                    (i for i in range(self.num_nodes) if ids[i].startswith(prefix)), dtype=np.int64
                )
                self._by_prefix[prefix] = found
            return found

    def prefix_mask(self, prefix: str) -> npt.NDArray[np.bool_]:
        """True at the nodes whose id starts with ``prefix``: counts a kind among neighbours
        with numpy instead of a string test per neighbour."""
        indices = self.prefix_indices(prefix)
        with self._derive_lock:
            found = self._masks.get(prefix)
            if found is None:
                found = np.zeros(self.num_nodes, dtype=bool)
                found[indices] = True
                self._masks[prefix] = found
            return found


class GraphProjection:
    """A growing in-memory graph: ids are interned to indices, edges appended, CSR cached.

    Stores feed it only edges they newly inserted (so re-ingesting never double-counts) and
    rebuild it after deletes, which are rare. ``view()`` is O(1) when nothing changed since the
    last call and O(E) after writes: never per query.
    """

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._index: dict[str, int] = {}
        self._src = array("q")
        self._dst = array("q")
        self._w = array("d")
        self._view: CSRGraph | None = None
        self._lock = threading.Lock()

    def _intern(self, node_id: str) -> int:
        i = self._index.get(node_id)
        if i is None:
            i = len(self._ids)
            self._index[node_id] = i
            self._ids.append(node_id)
        return i

    def add_nodes(self, ids: Iterable[str]) -> None:
        with self._lock:
            for node_id in ids:
                self._intern(node_id)
            self._view = None

    def add_edges(self, edges: Iterable[WeightedEdge]) -> None:
        with self._lock:
            for s, d, w in edges:
                self._src.append(self._intern(s))
                self._dst.append(self._intern(d))
                self._w.append(w)
            self._view = None

    @property
    def num_edges(self) -> int:
        return len(self._w)

    def view(self) -> CSRGraph:
        with self._lock:
            if self._view is None:
                n = len(self._ids)
                src = (
                    np.frombuffer(self._src, dtype=np.int64) if self._src else np.zeros(0, np.int64)
                )
                dst = (
                    np.frombuffer(self._dst, dtype=np.int64) if self._dst else np.zeros(0, np.int64)
                )
                w = np.frombuffer(self._w, dtype=np.float64) if self._w else np.zeros(0)
                adj = sp.coo_matrix(
                    (
                        np.concatenate([w, w]),
                        (np.concatenate([src, dst]), np.concatenate([dst, src])),
                    ),
                    shape=(n, n),
                ).tocsr()
                adj.sum_duplicates()
                # The view shares the id list; it is append-only, so old views stay valid.
                self._view = CSRGraph(self._ids, self._index, adj)
            return self._view


def transition_matrix(adj: sp.csr_matrix) -> tuple[sp.csr_matrix, npt.NDArray[np.bool_]]:
    """``adj`` with column u scaled by 1/deg(u) (mass at u spreads over its edges by weight), and
    the mask of nodes with no edges (which keep the mass that reaches them)."""
    deg = np.asarray(adj.sum(axis=0)).ravel()
    dangling = deg == 0
    inv = np.zeros(adj.shape[0])
    inv[~dangling] = 1.0 / deg[~dangling]
    return sp.csr_matrix(adj @ sp.diags(inv), dtype=np.float32), dangling
