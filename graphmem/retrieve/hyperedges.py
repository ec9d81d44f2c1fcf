"""Reading HGMem hyperedges at search time: dense similarity fused with PageRank scores.

The units are built and merged on ingest (:mod:`graphmem.ingest.hyperedges`).
"""

from __future__ import annotations

import numpy as np

from graphmem.ids import HYPEREDGE, is_kind
from graphmem.retrieve.base import Request, Retrieval
from graphmem.retrieve.scores import minmax


def minmax_fuse(dense: dict[str, float], walked: dict[str, float]) -> list[tuple[str, float]]:
    """Units ranked by min-max dense similarity plus min-max PageRank score, best first.

    >>> minmax_fuse({"h:a": 0.9, "h:b": 0.5}, {"h:b": 0.2})
    [('h:a', 1.0), ('h:b', 1.0)]
    """
    ids = sorted(set(dense) | set(walked))
    if not ids:
        return []
    floor = min(dense.values()) if dense else 0.0
    score = minmax([dense.get(i, floor) for i in ids]) if dense else np.zeros(len(ids))
    if walked:
        score = score + minmax([walked.get(i, 0.0) for i in ids])
    order = np.lexsort((np.arange(len(ids)), -score))
    return [(ids[j], float(score[j])) for j in order]


def retrieve_units(request: Request) -> Retrieval:
    """The ``k`` best units for a question: dense similarity fused with ``request.walked``."""
    r = request
    dense = dict(r.store.vector_search(r.namespace, "hyperedge", r.vector, max(2 * r.k, 20))[0])
    walked = {n: s for n, s in r.walked.items() if is_kind(n, HYPEREDGE)}
    ranked = minmax_fuse(dense, walked)[: r.k]
    return Retrieval(ranked, dense, [], {}, node_scores=walked, mode="units")
