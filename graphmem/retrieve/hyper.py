"""Reading HGMem hyperedges at search time: dense similarity fused with PageRank scores.

The units are built and merged on ingest (:mod:`graphmem.ingest.hyperedges`).
"""

from __future__ import annotations

import numpy as np

from graphmem.models import HyperedgeHit
from graphmem.store.base import Store, Vector


def minmax_fuse(dense: dict[str, float], walked: dict[str, float]) -> list[tuple[str, float]]:
    """Units ranked by min-max dense similarity plus min-max PageRank score, best first.

    >>> minmax_fuse({"h:a": 0.9, "h:b": 0.5}, {"h:b": 0.2})
    [('h:a', 1.0), ('h:b', 1.0)]
    """
    ids = sorted(set(dense) | set(walked))
    if not ids:
        return []

    def norm(values: dict[str, float], missing: float) -> np.ndarray:
        x = np.array([values.get(i, missing) for i in ids], dtype=np.float64)
        lo, hi = float(x.min()), float(x.max())
        return (x - lo) / (hi - lo) if hi - lo > 1e-12 else (x > 0).astype(np.float64)

    floor = min(dense.values()) if dense else 0.0
    score = norm(dense, floor) if dense else np.zeros(len(ids))
    if walked:
        score = score + norm(walked, 0.0)
    order = np.lexsort((np.arange(len(ids)), -score))
    return [(ids[j], float(score[j])) for j in order]


def hyperedge_hits(
    store: Store, namespace: str, query: Vector, k: int, ppr: dict[str, float]
) -> list[HyperedgeHit]:
    """The ``k`` best units for a question: dense similarity fused with PageRank scores."""
    dense = dict(store.vector_search(namespace, "hyperedge", query, max(2 * k, 20))[0])
    walked = {n: s for n, s in ppr.items() if n.startswith("h:")}
    ranked = minmax_fuse(dense, walked)[:k]
    rows = store.get_hyperedges(namespace, [h for h, _ in ranked])
    return [HyperedgeHit(hyperedge=rows[h], score=s) for h, s in ranked if h in rows]
