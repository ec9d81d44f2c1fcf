"""Personalized PageRank over a read-only :class:`~graphmem.store.graph.GraphView`.

Three engines behind one signature:

- ``"exact"``: power iteration on the whole sparse matrix with scipy (needs ``graph.matrix()``).
- ``"prpack"``: igraph's PRPACK solver on the same walk (:mod:`graphmem.retrieve.ppr_igraph`),
  solved to ~1e-10 rather than iterated to ``tol``.
- ``"push"``: local push (Andersen, Chung, Lang 2006), approximate. It only touches nodes whose
  residual is above ``tol`` times their degree, so its cost depends on the seeds' neighbourhood, not
  on the graph's size; it asks the graph for one whole frontier of neighbourhoods at a time, which is
  one round trip on a remote store.

``damping`` is the probability of following an edge (HippoRAG uses 0.5); ``1 - damping`` is the
probability of jumping back to the seeds. Nodes with no edges keep the mass that reaches them (as if
they had a self-loop), in both engines, so the two agree.

>>> from graphmem.store.graph import GraphProjection
>>> g = GraphProjection(); g.add_edges([("a", "b", 1.0), ("b", "c", 1.0)]); v = g.view()
>>> exact = personalized_pagerank(v, {v.index_of("a"): 1.0}, damping=0.5)
>>> push = personalized_pagerank(v, {v.index_of("a"): 1.0}, damping=0.5, engine="push", tol=1e-9)
>>> round(exact[v.index_of("b")], 3) == round(push[v.index_of("b")], 3)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from graphmem.store.graph import GraphView, transition_matrix

Engine = Literal["exact", "push", "prpack"]
#: the exact engines (whole graph in memory); ``EXACT`` is the one "auto" retrieval uses,
#: chosen by ``benchmarks/ppr_engines.py`` (see docs/ARCHITECTURE.md)
EXACT_ENGINES = ("exact", "prpack")
EXACT: Engine = "exact"

#: tolerances at least this loose run the exact engine in float32
FLOAT32_MIN_TOL = 1e-5


def _normalized_seeds(seeds: Mapping[int, float], damping: float) -> dict[int, float]:
    """The seeds scaled to sum to 1, after checking them and ``damping``."""
    if not 0.0 <= damping < 1.0:
        raise ValueError(f"damping must be in [0, 1), got {damping}")
    positive = {int(i): float(w) for i, w in seeds.items() if w > 0}
    total = sum(positive.values())
    if total <= 0:
        raise ValueError("personalized_pagerank needs at least one seed with a positive weight")
    return {i: w / total for i, w in positive.items()}


def personalized_pagerank(
    graph: GraphView,
    seeds: Mapping[int, float],
    *,
    damping: float = 0.5,
    tol: float = 1e-6,
    max_iter: int = 100,
    engine: Engine = "exact",
) -> dict[int, float]:
    """Scores of the nodes reached from ``seeds`` (node index -> weight), summing to about 1.

    ``tol``: for ``exact``, the L1 change between iterations at which to stop; for ``push``, the
    residual per unit of degree below which a node is not pushed (smaller: more accurate, slower).
    Only nodes with a positive score are returned.
    """
    s = _normalized_seeds(seeds, damping)
    if engine == "exact":
        return _exact(graph, s, damping=damping, tol=tol, max_iter=max_iter)
    if engine == "push":
        return _push(graph, s, damping=damping, tol=tol, max_iter=max_iter)
    if engine == "prpack":
        from graphmem.retrieve.ppr_igraph import prpack_vector

        p = prpack_vector(graph, s, damping=damping)
        nz = np.flatnonzero(p > 0)
        return dict(zip(nz.tolist(), p[nz].tolist(), strict=True))
    raise ValueError(f"unknown PageRank engine {engine!r}: use 'exact', 'push' or 'prpack'")


def pagerank_vector(
    graph: GraphView,
    seeds: Mapping[int, float],
    *,
    damping: float = 0.5,
    tol: float = 1e-6,
    max_iter: int = 100,
    engine: Engine = "exact",
) -> npt.NDArray[np.float64]:
    """An exact engine's scores as one dense vector over all nodes (no dict to build).

    Same walk as ``personalized_pagerank(..., engine=engine)`` (``"exact"`` or ``"prpack"``,
    which ignores ``tol`` and ``max_iter``); callers that rank many nodes (the retrieval
    pipeline) read their top entries from it with numpy.
    """
    s = _normalized_seeds(seeds, damping)
    if engine == "prpack":
        from graphmem.retrieve.ppr_igraph import prpack_vector

        return prpack_vector(graph, s, damping=damping)
    if engine != "exact":
        raise ValueError(
            f"pagerank_vector needs an exact engine ('exact', 'prpack'), not {engine!r}"
        )
    return _exact_vector(graph, s, damping=damping, tol=tol, max_iter=max_iter)


def _transition(graph: GraphView) -> tuple[sp.csr_matrix, npt.NDArray[np.bool_]]:
    """The column-stochastic walk matrix and the dangling mask (cached by immutable views)."""
    cached = getattr(graph, "transition", None)
    if callable(cached):
        return cast(tuple[sp.csr_matrix, npt.NDArray[np.bool_]], cached())
    return transition_matrix(graph.matrix())


def _exact_vector(
    graph: GraphView, seeds: dict[int, float], *, damping: float, tol: float, max_iter: int
) -> npt.NDArray[np.float64]:
    walk, dangling = _transition(graph)
    n = walk.shape[0]
    # float32 halves the memory traffic, but its rounding (~1e-7 per node) would keep a tighter
    # L1 tolerance from ever being met on a large graph: those runs get float64
    dtype: type[np.floating[Any]] = np.float32 if tol >= FLOAT32_MIN_TOL else np.float64
    if dtype is np.float64:
        walk = walk.astype(np.float64)
    s = np.zeros(n, dtype=dtype)
    for i, w in seeds.items():
        if i >= n:
            raise IndexError(f"seed {i} is not a node of this graph ({n} nodes)")
        s[i] = w
    p = s.copy()
    restart = (1.0 - damping) * s
    keep = np.where(dangling, damping, 0.0).astype(dtype)
    # In place, in the order `restart + damping * (walk @ p) + keep * p` rounds (IEEE addition
    # commutes), so the scores are the same bits: one buffer per step instead of six arrays.
    scratch = np.empty_like(p)
    for _ in range(max_iter):
        nxt = walk @ p
        nxt *= damping
        nxt += restart
        np.multiply(keep, p, out=scratch)
        nxt += scratch
        np.subtract(nxt, p, out=scratch)
        delta = float(np.abs(scratch, out=scratch).sum())
        p = nxt
        if delta < tol:
            break
    return p.astype(np.float64)


def _exact(
    graph: GraphView, seeds: dict[int, float], *, damping: float, tol: float, max_iter: int
) -> dict[int, float]:
    p = _exact_vector(graph, seeds, damping=damping, tol=tol, max_iter=max_iter)
    nz = np.flatnonzero(p > 0)
    return dict(zip(nz.tolist(), p[nz].tolist(), strict=True))


class _Slots:
    """Node index -> a compact local slot, for arrays that grow with the neighbourhood only."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.int64)  # node indices seen, sorted
        self.vals = np.zeros(0, dtype=np.int64)  # their slots
        self.nodes = np.zeros(0, dtype=np.int64)  # slot -> node index

    def __len__(self) -> int:
        return int(self.nodes.size)

    def map(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        uniq, inv = np.unique(ids, return_inverse=True)
        pos = np.searchsorted(self.keys, uniq)
        hit = np.zeros(uniq.size, dtype=bool)
        if self.keys.size:
            inside = pos < self.keys.size
            hit[inside] = self.keys[pos[inside]] == uniq[inside]
        out = np.empty(uniq.size, dtype=np.int64)
        out[hit] = self.vals[pos[hit]]
        new = uniq[~hit]
        if new.size:
            slots = np.arange(self.nodes.size, self.nodes.size + new.size, dtype=np.int64)
            out[~hit] = slots
            self.nodes = np.concatenate([self.nodes, new])
            # both sorted: insert in place of a re-sort (linear, not K log K, per round)
            at = np.searchsorted(self.keys, new)
            self.keys, self.vals = np.insert(self.keys, at, new), np.insert(self.vals, at, slots)
        return out[inv]


def _push(
    graph: GraphView, seeds: dict[int, float], *, damping: float, tol: float, max_iter: int
) -> dict[int, float]:
    # State lives in arrays over local slots, handed out as nodes are met, so a question's cost
    # (memory included) follows its neighbourhood, never the graph's size; numpy does the
    # per-edge work.
    slots = _Slots()
    cap = 1024
    p, r = np.zeros(cap), np.zeros(cap)
    deg = np.full(cap, -1.0)  # weighted degree once the neighbours are fetched, else -1
    bound = np.full(cap, -1.0)  # a degree known without fetching (see degrees_of), else -1
    lower = np.zeros(cap, dtype=bool)  # bound may be a lower bound (it reached its threshold)
    is_seed = np.zeros(cap, dtype=bool)

    def grow() -> None:
        nonlocal p, r, deg, bound, lower, is_seed, cap
        if len(slots) > cap:
            extra = max(len(slots), 2 * cap) - cap
            p, r = np.pad(p, (0, extra)), np.pad(r, (0, extra))
            deg = np.pad(deg, (0, extra), constant_values=-1.0)
            bound = np.pad(bound, (0, extra), constant_values=-1.0)
            lower = np.pad(lower, (0, extra))
            is_seed = np.pad(is_seed, (0, extra))
            cap += extra

    seed_nodes = np.fromiter(seeds, dtype=np.int64, count=len(seeds))
    frontier = slots.map(seed_nodes)
    grow()
    r[frontier] = np.fromiter(seeds.values(), dtype=np.float64, count=len(seeds))
    is_seed[frontier] = True
    rows: dict[int, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]] = {}  # slot -> row
    pushed: list[npt.NDArray[np.int64]] = []
    degrees_of = getattr(graph, "degrees", None)

    # Each round pushes the whole frontier at once; max_iter bounds the rounds (and round trips).
    for _ in range(max(1, max_iter)):
        unseen = frontier[deg[frontier] < 0]
        if unseen.size and callable(degrees_of):
            # Degrees first (cheap: no neighbour lists). A node whose residual is small for its
            # degree waits; a node whose push would give every neighbour less than tol (a hub
            # reached with little mass) keeps its own share and is never fetched: what it
            # would pass on is too thin to activate any neighbour. This bounds a question's
            # cost by its neighbourhood even where hubs grow with the graph.
            # The count at which a node waits (or, for a seed, settles): a lower bound that
            # reaches it decides as the full count would, so a view may answer with one.
            need = np.where(is_seed[unseen], r[unseen] * damping, r[unseen]) / tol
            asking = (bound[unseen] < 0) | (lower[unseen] & (bound[unseen] < need))
            ask, need_ask = unseen[asking], need[asking]
            if ask.size:
                found = np.asarray(
                    degrees_of(slots.nodes[ask].tolist(), at_least=need_ask.tolist()),
                    dtype=np.float64,
                )
                bound[ask] = found
                lower[ask] = found >= need_ask  # maybe only a bound: asked again if mass grows
            b = bound[unseen]
            wait = (~is_seed[unseen]) & (r[unseen] <= tol * b)
            settle = ~wait & (b > 0) & (r[unseen] * damping <= tol * b)
            settled = unseen[settle]
            p[settled] += (1.0 - damping) * r[settled]
            r[settled] = 0.0
            pushed.append(settled)
            drop = unseen[wait | settle]
            if drop.size:
                frontier = np.setdiff1d(frontier, drop, assume_unique=True)
                if frontier.size == 0:
                    break
        missing = frontier[deg[frontier] < 0]
        if missing.size:
            fetched = graph.neighbors(slots.nodes[missing].tolist())
            # one mapping for the whole round's rows (new slots are handed out once, sorted)
            sizes = np.fromiter((n.size for n, _ in fetched), dtype=np.int64, count=len(fetched))
            local_all = slots.map(np.concatenate([np.asarray(n, np.int64) for n, _ in fetched]))
            weights_all = np.concatenate([np.asarray(w, np.float64) for _, w in fetched])
            ends = np.cumsum(sizes)
            for j, u in enumerate(missing.tolist()):
                a, b = ends[j] - sizes[j], ends[j]
                rows[u] = (local_all[a:b], weights_all[a:b])
            grow()
            owner = np.repeat(np.arange(missing.size), sizes)
            deg[missing] = np.bincount(owner, weights=weights_all, minlength=missing.size)
        mass = r[frontier]
        r[frontier] = 0.0
        pushed.append(frontier)
        d = deg[frontier]
        dangling = d <= 0
        # nodes with no edges keep what reaches them (as if they had a self-loop)
        np.add.at(p, frontier[dangling], mass[dangling])
        live, m, dl = frontier[~dangling], mass[~dangling], d[~dangling]
        np.add.at(p, live, (1.0 - damping) * m)
        if live.size == 0:
            break
        parts = [rows[u] for u in live.tolist()]
        nbrs = np.concatenate([n for n, _ in parts])
        lens = np.fromiter((n.size for n, _ in parts), dtype=np.int64, count=len(parts))
        shares = np.concatenate([w for _, w in parts]) * np.repeat(damping * m / dl, lens)
        np.add.at(r, nbrs, shares)
        touched = np.unique(nbrs)
        # pushed when the residual is large for the degree; unfetched nodes count degree 1
        known = deg[touched]
        frontier = touched[r[touched] > tol * np.where(known > 0, known, 1.0)]
        if frontier.size == 0:
            break
    done = np.unique(np.concatenate(pushed))
    done = done[p[done] > 0]
    return dict(zip(slots.nodes[done].tolist(), p[done].tolist(), strict=True))
