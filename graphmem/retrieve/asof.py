"""``as_of`` views of the PageRank graph: the fact edges of the world at a past time."""

from __future__ import annotations

import weakref
from datetime import datetime

import numpy as np
import scipy.sparse as sp

from graphmem.ids import ENTITY, of_kind
from graphmem.store.base import Store
from graphmem.store.graph import CSRGraph, GraphView
from graphmem.validity import is_current, utc, valid_at

#: per store (dropped with it): (namespace, nodes, edges, time) -> view
_CACHE: weakref.WeakKeyDictionary[Store, dict[tuple[str, int, int, str], CSRGraph]] = (
    weakref.WeakKeyDictionary()
)
_PER_STORE = 16


def graph_as_of(store: Store, namespace: str, graph: GraphView, when: datetime) -> GraphView:
    """``graph`` with the fact edges of the world at ``when`` instead of the current ones.

    Current facts not yet valid at ``when`` leave; facts valid then but ended since come back.
    Reads every fact of the graph's entities once (cached per graph state and time), so it costs
    O(facts) for the first query at a given time.
    """
    adj = graph.matrix()
    key = (namespace, graph.num_nodes, int(adj.nnz), utc(when).isoformat())
    cache = _CACHE.setdefault(store, {})
    hit = cache.get(key)
    if hit is not None:
        return hit
    ids = [graph.node_id(i) for i in range(graph.num_nodes)]
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for f in store.facts_between(namespace, of_kind(ids, ENTITY)):
        now_in, then_in = is_current(f), valid_at(f, when)
        if f.subject == f.object or now_in == then_in:
            continue
        i, j = graph.index_of(f.subject), graph.index_of(f.object)
        if i is None or j is None:
            continue
        w = 1.0 if then_in else -1.0
        rows += [i, j]
        cols += [j, i]
        vals += [w, w]
    n = adj.shape[0]
    new = adj.copy()
    if rows:
        delta = sp.coo_matrix((np.array(vals), (np.array(rows), np.array(cols))), shape=(n, n))
        new = (adj + delta.tocsr()).tocsr()
        new.data[new.data < 1e-12] = 0.0
        new.eliminate_zeros()
    view = CSRGraph(ids, {nid: i for i, nid in enumerate(ids)}, new)
    if len(cache) >= _PER_STORE:
        cache.clear()
    cache[key] = view
    return view
