"""A :class:`~graphmem.store.graph.GraphView` over a remote store, fetched on demand.

Local-push PageRank asks for one frontier of neighbourhoods at a time; this view answers each
such call with **one** round trip (:meth:`Store.adjacent` over the nodes it has not seen yet) and
keeps what it fetched, so a question costs what its neighbourhood costs, not what the graph does.
Integer indices are handed out lazily, in the order ids are first seen.

The exact engine needs the whole matrix: :meth:`matrix` loads the namespace's projection once
(nodes and edges, in pages), then keeps it in step with the writes made through the same store:
a write marks the ids whose neighbourhood it may change, and the next call re-fetches just those
rows in one round trip and patches the matrix. Deletes drop the view (the store makes a new one).

Until the matrix is loaded, :meth:`index_of` cannot know whether an id exists without a round
trip, so it gives every id an index; an id the server does not know behaves as a node without
edges (PageRank keeps the mass it is given). Once loaded, unknown ids get ``None``.

>>> class Fake:
...     def adjacent(self, ns, ids):
...         return {i: [("b", 1.0)] if i == "a" else [("a", 1.0)] for i in ids}
>>> view = CypherGraphView(Fake(), "default")
>>> a = view.index_of("a")
>>> [view.node_id(int(j)) for j in view.neighbors([a])[0][0]]
['b']
>>> view.round_trips
1
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from graphmem.store.graph import FloatArray, IntArray

_EMPTY_I: IntArray = np.zeros(0, dtype=np.int64)
_EMPTY_F: FloatArray = np.zeros(0, dtype=np.float64)


class _Remote(Protocol):
    def adjacent(
        self, namespace: str, ids: Sequence[str]
    ) -> Mapping[str, list[tuple[str, float]]]: ...


class _Loadable(_Remote, Protocol):
    def graph_nodes(self, namespace: str) -> list[str]: ...

    def graph_edges(self, namespace: str) -> list[tuple[str, str, float]]: ...


class CypherGraphView:
    """Neighbourhoods fetched on demand (``neighbors``), the whole matrix loaded on demand."""

    #: neighbourhoods cost a round trip: retrieval's "auto" engine uses local push here
    remote = True

    def __init__(self, store: _Remote, namespace: str, *, cache_limit: int = 2_000_000) -> None:
        self._store = store
        self.namespace = namespace
        self.cache_limit = cache_limit
        self._ids: list[str] = []
        self._index: dict[str, int] = {}
        self._rows: dict[int, tuple[IntArray, FloatArray]] = {}
        self._degrees: dict[int, float] = {}
        self._lower: dict[int, float] = {}  # lower bounds of _degrees' counts (out-degrees)
        self._cached = 0
        self._matrix: sp.csr_matrix | None = None
        self._dirty: set[str] = set()
        self._lock = threading.RLock()
        #: round trips made to fetch neighbourhoods (for tests and benchmarks)
        self.round_trips = 0

    # -- ids ----------------------------------------------------------------------------------
    def _intern(self, node_id: str) -> int:
        i = self._index.get(node_id)
        if i is None:
            i = len(self._ids)
            self._index[node_id] = i
            self._ids.append(node_id)
        return i

    @property
    def num_nodes(self) -> int:
        """Indices handed out so far (every node of the namespace once the matrix is loaded)."""
        return len(self._ids)

    def index_of(self, node_id: str) -> int | None:
        with self._lock:
            if self._matrix is not None:
                if self._dirty:
                    self._patch()
                return self._index.get(node_id)
            return self._intern(node_id)

    def node_id(self, index: int) -> str:
        return self._ids[index]

    @property
    def loaded(self) -> bool:
        """Whether the whole matrix has been loaded."""
        return self._matrix is not None

    # -- neighbourhoods -----------------------------------------------------------------------
    def _row(self, pairs: Iterable[tuple[str, float]]) -> tuple[IntArray, FloatArray]:
        pairs = list(pairs)
        if not pairs:
            return _EMPTY_I, _EMPTY_F
        idx = np.fromiter((self._intern(o) for o, _ in pairs), dtype=np.int64, count=len(pairs))
        w = np.fromiter((w for _, w in pairs), dtype=np.float64, count=len(pairs))
        # Parallel edges (two facts between one pair) add up, as in the in-memory projection.
        uniq, inv = np.unique(idx, return_inverse=True)
        if uniq.size == idx.size:
            order = np.argsort(idx, kind="stable")
            return idx[order], w[order]
        return uniq.astype(np.int64), np.bincount(inv, weights=w).astype(np.float64)

    def _fetch(self, ids: list[str]) -> dict[str, list[tuple[str, float]]]:
        self.round_trips += 1
        return {k: list(v) for k, v in self._store.adjacent(self.namespace, ids).items()}

    def degrees(self, nodes: Sequence[int], at_least: Sequence[float] | None = None) -> FloatArray:
        """Degree of each node: the weighted degree once its neighbours are fetched (or the
        matrix is loaded), before that the server's relationship count, an upper bound when
        weights are at most 1; the unknown ones in one round trip that reads no neighbours.
        Local push uses it to leave hubs it would not push unfetched.

        With ``at_least`` (one threshold per node), a node's value may instead be a lower bound
        that already reaches its threshold: where the store has a cheaper lower bound (FalkorDB's
        outgoing count), the full count is asked only for the nodes that bound does not settle.
        """
        with self._lock:
            unknown = [
                int(u)
                for u in dict.fromkeys(nodes)
                if int(u) not in self._rows and int(u) not in self._degrees
            ]
            if unknown and self._matrix is not None:
                sums = np.asarray(self.matrix().sum(axis=1)).ravel()
                for u in unknown:
                    self._degrees[u] = float(sums[u])
            elif unknown:
                if at_least is not None:
                    unknown = self._rule_out(unknown, nodes, at_least)
                if unknown:
                    store: Any = self._store
                    self.round_trips += 1
                    found = store.degrees(self.namespace, [self._ids[u] for u in unknown])
                    for u in unknown:
                        self._degrees[u] = float(found.get(self._ids[u], 0.0))
            out = np.empty(len(nodes), dtype=np.float64)
            for i, u in enumerate(nodes):
                row = self._rows.get(int(u))
                if row is not None:
                    out[i] = float(row[1].sum())
                else:
                    exact = self._degrees.get(int(u))
                    out[i] = exact if exact is not None else self._lower[int(u)]
            return out

    def _rule_out(
        self, unknown: list[int], nodes: Sequence[int], at_least: Sequence[float]
    ) -> list[int]:
        """The unknown nodes whose cheap lower bound (one round trip) is below their threshold."""
        probe = getattr(self._store, "out_degrees", None)
        if probe is None:
            return unknown
        ask = [u for u in unknown if u not in self._lower]
        if ask:
            found = probe(self.namespace, [self._ids[u] for u in ask])
            if found is None:  # this backend's full count costs no more
                return unknown
            self.round_trips += 1
            for u in ask:
                self._lower[u] = float(found.get(self._ids[u], 0.0))
        need: dict[int, float] = {}
        for u, t in zip(nodes, at_least, strict=True):
            need[int(u)] = max(need.get(int(u), 0.0), float(t))
        return [u for u in unknown if self._lower[u] < need[u]]

    def neighbors(self, nodes: Sequence[int]) -> list[tuple[IntArray, FloatArray]]:
        """Neighbour indices and weights of each node; the unseen ones in one round trip."""
        with self._lock:
            if self._matrix is not None:
                adj = self.matrix()
                out = []
                for u in nodes:
                    a, b = adj.indptr[u], adj.indptr[u + 1]
                    out.append(
                        (adj.indices[a:b].astype(np.int64), adj.data[a:b].astype(np.float64))
                    )
                return out
            missing = list(dict.fromkeys(int(u) for u in nodes if int(u) not in self._rows))
            if missing:
                if self._cached > self.cache_limit:
                    self._rows.clear()
                    self._cached = 0
                fetched = self._fetch([self._ids[u] for u in missing])
                for u in missing:
                    row = self._row(fetched.get(self._ids[u], []))
                    self._rows[u] = row
                    self._cached += row[0].size
            return [self._rows[int(u)] for u in nodes]

    # -- the whole matrix ---------------------------------------------------------------------
    def matrix(self) -> sp.csr_matrix:
        """The symmetric weighted adjacency matrix of the whole namespace (loaded once)."""
        with self._lock:
            if self._matrix is None:
                self._load()
            elif self._dirty:
                self._patch()
            assert self._matrix is not None
            return self._matrix

    def _load(self) -> None:
        store = self._store
        if not hasattr(store, "graph_nodes"):
            raise TypeError("this store cannot load a whole graph projection")
        loadable: _Loadable = store  # type: ignore[assignment]
        for node_id in loadable.graph_nodes(self.namespace):
            self._intern(node_id)
        edges = loadable.graph_edges(self.namespace)
        src = np.fromiter((self._intern(s) for s, _, _ in edges), dtype=np.int64, count=len(edges))
        dst = np.fromiter((self._intern(d) for _, d, _ in edges), dtype=np.int64, count=len(edges))
        w = np.fromiter((x for _, _, x in edges), dtype=np.float64, count=len(edges))
        self._matrix = self._symmetric(src, dst, w)
        self._dirty.clear()
        self._rows.clear()
        self._cached = 0

    def _symmetric(self, src: IntArray, dst: IntArray, w: FloatArray) -> sp.csr_matrix:
        n = len(self._ids)
        adj = sp.coo_matrix(
            (np.concatenate([w, w]), (np.concatenate([src, dst]), np.concatenate([dst, src]))),
            shape=(n, n),
        ).tocsr()
        adj.sum_duplicates()
        return adj

    def _patch(self) -> None:
        """Replace the rows and columns of the dirty ids with fresh ones (one round trip)."""
        assert self._matrix is not None
        dirty = sorted(self._dirty)
        self._dirty.clear()
        fetched = self._fetch(dirty)
        rows = [self._intern(d) for d in dirty]
        n = len(self._ids)
        old = self._matrix
        if old.shape[0] < n:
            old = sp.csr_matrix((old.data, old.indices, old.indptr), shape=(old.shape[0], n))
            old = sp.vstack([old, sp.csr_matrix((n - old.shape[0], n))], format="csr")
        keep = np.ones(n)
        keep[rows] = 0.0
        mask = sp.diags(keep)
        # Edges between two dirty nodes come back from both ends: count each end's view once.
        src, dst, w = [], [], []
        dirty_set = set(rows)
        for d, u in zip(dirty, rows, strict=True):
            for other, weight in fetched.get(d, []):
                v = self._intern(other)
                if v in dirty_set and v < u:
                    continue
                src.append(u)
                dst.append(v)
                w.append(weight)
        n = len(self._ids)
        base = (mask @ old @ mask).tocsr()
        if base.shape[0] < n:
            base = sp.csr_matrix((base.data, base.indices, base.indptr), shape=(base.shape[0], n))
            base = sp.vstack([base, sp.csr_matrix((n - base.shape[0], n))], format="csr")
        fresh = self._symmetric(
            np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64), np.asarray(w)
        )
        patched = (base + fresh).tocsr()
        patched.eliminate_zeros()
        self._matrix = patched

    # -- keeping in step ----------------------------------------------------------------------
    def note_write(self, touched: Iterable[str]) -> None:
        """A write through the store may have changed these ids' neighbourhoods."""
        with self._lock:
            for node_id in touched:
                i = self._index.get(node_id)
                if i is not None:
                    self._degrees.pop(i, None)
                    self._lower.pop(i, None)
                if i is not None and i in self._rows:
                    self._cached -= self._rows.pop(i)[0].size
                if self._matrix is not None:
                    self._dirty.add(node_id)
