"""Personalized PageRank over a read-only :class:`~graphmem.retrieve.graph.GraphView`.

Two engines behind one signature:

- ``"exact"``: power iteration on the whole sparse matrix (needs ``graph.matrix()``).
- ``"push"``: local push (Andersen, Chung, Lang 2006), approximate. It only touches nodes whose
  residual is above ``tol`` times their degree, so its cost depends on the seeds' neighbourhood, not
  on the graph's size; it asks the graph for one whole frontier of neighbourhoods at a time, which is
  one round trip on a remote store.

``damping`` is the probability of following an edge (HippoRAG uses 0.5); ``1 - damping`` is the
probability of jumping back to the seeds. Nodes with no edges keep the mass that reaches them (as if
they had a self-loop), in both engines, so the two agree.

>>> from graphmem.retrieve.graph import GraphProjection
>>> g = GraphProjection(); g.add_edges([("a", "b", 1.0), ("b", "c", 1.0)]); v = g.view()
>>> exact = personalized_pagerank(v, {v.index_of("a"): 1.0}, damping=0.5)
>>> push = personalized_pagerank(v, {v.index_of("a"): 1.0}, damping=0.5, engine="push", tol=1e-9)
>>> round(exact[v.index_of("b")], 3) == round(push[v.index_of("b")], 3)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import scipy.sparse as sp

from graphmem.retrieve.graph import GraphView

Engine = Literal["exact", "push"]


def _normalized_seeds(seeds: Mapping[int, float]) -> dict[int, float]:
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
    if not 0.0 <= damping < 1.0:
        raise ValueError(f"damping must be in [0, 1), got {damping}")
    s = _normalized_seeds(seeds)
    if engine == "exact":
        return _exact(graph, s, damping=damping, tol=tol, max_iter=max_iter)
    if engine == "push":
        return _push(graph, s, damping=damping, tol=tol, max_iter=max_iter)
    raise ValueError(f"unknown PageRank engine {engine!r}: use 'exact' or 'push'")


def _exact(
    graph: GraphView, seeds: dict[int, float], *, damping: float, tol: float, max_iter: int
) -> dict[int, float]:
    adj: sp.csr_matrix = graph.matrix()
    n = adj.shape[0]
    deg = np.asarray(adj.sum(axis=0)).ravel()
    dangling = deg == 0
    inv = np.zeros(n)
    inv[~dangling] = 1.0 / deg[~dangling]
    s = np.zeros(n)
    for i, w in seeds.items():
        if i >= n:
            raise IndexError(f"seed {i} is not a node of this graph ({n} nodes)")
        s[i] = w
    p = s.copy()
    # Column-stochastic walk: mass at u spreads over u's edges in proportion to their weights.
    for _ in range(max_iter):
        nxt = (1.0 - damping) * s + damping * (adj @ (p * inv) + p * dangling)
        delta = float(np.abs(nxt - p).sum())
        p = nxt
        if delta < tol:
            break
    nz = np.flatnonzero(p > 0)
    return dict(zip(nz.tolist(), p[nz].tolist(), strict=True))


def _push(
    graph: GraphView, seeds: dict[int, float], *, damping: float, tol: float, max_iter: int
) -> dict[int, float]:
    p: dict[int, float] = {}
    r: dict[int, float] = dict(seeds)
    adj: dict[int, tuple[np.ndarray, np.ndarray, float]] = {}
    frontier = list(r)
    # Each round pushes the whole frontier at once; max_iter bounds the rounds (and round trips).
    for _ in range(max(1, max_iter)):
        missing = [u for u in frontier if u not in adj]
        if missing:
            for u, (nbrs, weights) in zip(missing, graph.neighbors(missing), strict=True):
                adj[u] = (nbrs, weights, float(weights.sum()))
        touched: set[int] = set()
        for u in frontier:
            mass = r.pop(u, 0.0)
            if mass <= 0:
                continue
            nbrs, weights, deg = adj[u]
            if deg <= 0:
                p[u] = p.get(u, 0.0) + mass
                continue
            p[u] = p.get(u, 0.0) + (1.0 - damping) * mass
            share = damping * mass / deg
            for v, w in zip(nbrs.tolist(), weights.tolist(), strict=True):
                r[v] = r.get(v, 0.0) + share * w
                touched.add(v)
        # A node is pushed when its residual is large for its degree; unseen nodes have degree >= 1
        # edge to us, so use the known degree when we have it and 1 otherwise.
        frontier = [v for v in touched if r.get(v, 0.0) > tol * (adj[v][2] if v in adj else 1.0)]
        if not frontier:
            break
    return p
