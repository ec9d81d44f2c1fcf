"""The ``"prpack"`` PageRank engine: igraph's personalized PageRank, solved by PRPACK (what
HippoRAG itself calls), over the same walk as :mod:`graphmem.retrieve.ppr`'s scipy engine.

The walk is made the same: the view's symmetric adjacency becomes a directed igraph graph with one
arc per stored direction, weighted as stored, and a node with no edges gets a self-loop, so it
keeps the mass that reaches it (graphmem's rule) where PRPACK would otherwise send a dangling
node's mass back to the seeds. PRPACK solves the system to ~1e-10, so its scores are the fixed
point the power iteration approaches; ``tests/unit/retrieve/test_ppr_engines.py`` holds the two
to 1e-6.

The igraph graph is built once per view (views never change) and kept while the view lives.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from graphmem.store.graph import GraphView

_CACHE: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def igraph_of(graph: GraphView) -> Any:
    """The directed igraph graph of ``graph``'s walk (cached per view when it can be)."""
    try:
        with _LOCK:
            found = _CACHE.get(graph)
    except TypeError:  # a view that takes no weak reference: built each time
        found = None
    if found is not None:
        return found
    import igraph as ig

    # mass at u moves to v by adj[v, u] / (column u's sum), as the scipy engine's walk matrix
    adj = graph.matrix().tocoo()
    n = int(adj.shape[0])
    src, dst = adj.col.astype(np.int64), adj.row.astype(np.int64)
    weight = adj.data.astype(np.float64)
    degree = np.bincount(src, weights=weight, minlength=n)
    lone = np.flatnonzero(degree <= 0)
    src, dst = np.concatenate([src, lone]), np.concatenate([dst, lone])
    weight = np.concatenate([weight, np.ones(lone.size)])
    built = ig.Graph(n=n, edges=np.column_stack([src, dst]).tolist(), directed=True)
    built.es["weight"] = weight.tolist()
    try:
        with _LOCK:
            _CACHE[graph] = built
    except TypeError:
        pass
    return built


def prpack_vector(
    graph: GraphView, seeds: Mapping[int, float], *, damping: float
) -> npt.NDArray[np.float64]:
    """Personalized PageRank of every node (``seeds`` already normalized to sum to 1)."""
    n = graph.num_nodes
    reset = np.zeros(n)
    for i, w in seeds.items():
        if i >= n:
            raise IndexError(f"seed {i} is not a node of this graph ({n} nodes)")
        reset[i] = w
    built = igraph_of(graph)
    scores = built.personalized_pagerank(
        directed=True, damping=damping, reset=reset.tolist(), weights="weight"
    )
    return np.asarray(scores, dtype=np.float64)
