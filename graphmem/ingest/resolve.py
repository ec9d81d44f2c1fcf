"""Entity resolution: merge names that normalize alike, link names that embed alike.

Exact merging is free: an entity's id is the hash of its normalized name (see
:func:`graphmem.ids.entity_id`), so "The Beatles" and "the beatles!" are one node. Names that
are close but not equal ("J. Lennon" / "John Lennon") are not merged, which would be wrong too
often; they get a weighted ``SYNONYM`` edge instead (HippoRAG: cosine >= 0.8 over the k nearest
neighbours), and PageRank flows along it in proportion to the similarity.

Cost: each new entity is compared with its ``k`` nearest neighbours found by the store's vector
index (exact up to tens of thousands of entities, approximate beyond), plus the other new entities
of its own batch, so the work grows with the batch, not with the square of the graph.

>>> import numpy as np
>>> v = np.array([[1, 0], [0.99, 0.14], [0, 1]], dtype=np.float32)
>>> v /= np.linalg.norm(v, axis=1, keepdims=True)
>>> [(a, b) for a, b, _ in within_batch_synonyms(["x", "y", "z"], v, threshold=0.8, k=5)]
[('x', 'y')]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from graphmem._threads import single_blas_thread
from graphmem.models import Edge
from graphmem.store.base import Store, Vector


@dataclass(frozen=True)
class ResolverSettings:
    """``threshold``: minimum cosine for a synonym edge; ``k``: neighbours considered per entity;
    ``skip_types``: entity types that never get synonym edges (a conversation's sessions are
    distinct by construction, however alike their names embed)."""

    threshold: float = 0.8
    k: int = 10
    skip_types: frozenset[str] = frozenset({"SESSION"})


def within_batch_synonyms(
    ids: Sequence[str], vectors: Vector, *, threshold: float, k: int
) -> list[tuple[str, str, float]]:
    """Pairs (a, b, cosine) among one batch's new entities, each pair once, a < b in batch order."""
    if len(ids) < 2:
        return []
    with single_blas_thread():
        sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1.0)
    out: list[tuple[str, str, float]] = []
    kk = min(k, len(ids) - 1)
    top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
    for i, row in enumerate(top):
        for j in row:
            score = float(sims[i, j])
            if score >= threshold and i < j:
                out.append((ids[i], ids[int(j)], score))
    return out


def synonym_edges(
    store: Store,
    namespace: str,
    new_ids: Sequence[str],
    new_vectors: Vector,
    settings: ResolverSettings = ResolverSettings(),
    new_types: Mapping[str, str | None] | None = None,
) -> list[Edge]:
    """SYNONYM edges from new entities to close existing ones and to each other.

    ``new_types``: the new entities' types, so those in ``settings.skip_types`` are left out
    (the types of existing entities are looked up in the store).
    """
    if not new_ids:
        return []
    pairs: dict[tuple[str, str], float] = {}
    hits = store.vector_search(namespace, "entity", new_vectors, settings.k)
    new_set = set(new_ids)
    for src, row in zip(new_ids, hits, strict=True):
        for dst, score in row:
            if score >= settings.threshold and dst != src and dst not in new_set:
                pairs[(src, dst)] = max(score, pairs.get((src, dst), 0.0))
    for a, b, score in within_batch_synonyms(
        new_ids, new_vectors, threshold=settings.threshold, k=settings.k
    ):
        pairs[(a, b)] = score
    if settings.skip_types and pairs:
        types = dict(new_types or {})
        others = sorted({b for _, b in pairs if b not in types})
        types.update({i: e.type for i, e in store.get_entities(namespace, others).items()})
        pairs = {
            (a, b): s
            for (a, b), s in pairs.items()
            if types.get(a) not in settings.skip_types and types.get(b) not in settings.skip_types
        }
    return [
        Edge(type="SYNONYM", src=a, dst=b, namespace=namespace, weight=round(s, 6))
        for (a, b), s in pairs.items()
    ]
