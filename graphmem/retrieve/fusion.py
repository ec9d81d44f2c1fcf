"""The first stage (dense + BM25) and its fusion with the graph walk. Free functions, no I/O.

Why this shape. The PageRank walk finds the hops a question needs (a passage two facts away from
anything the question says), but when the extracted facts are noisy it can also push passages the
first stage had right out of the top. No single weight fixes both on data nobody tuned on, so the
fusion has three parts, each with a reason that does not depend on one dataset:

1. **Hybrid first stage.** Dense and BM25 rankings are fused by weighted reciprocal rank
   (:func:`rrf`): rank fusion needs no score calibration across the two, and BM25 catches rare
   names that a small embedding model blurs. The two weigh the same by default
   (:class:`~graphmem.retrieve.passages.PassageSearchSettings` says what was measured).
2. **The first stage keeps its best passage.** Slot 1 is the first stage's top passage; the walk
   orders the rest. On multi-hop questions the first hop is the one the question states, which
   the first stage finds; the walk's value is the later hops.
3. **A confidence gate on the walk.** The walk is seeded with the dense passages, so a walk
   that carries signal overlaps the first stage's top ``m`` heavily (on musique_train the median
   overlap of the top 10 is 0.8-0.9), while a walk driven by unrelated facts does not (a median of
   0). :func:`graph_gate` maps that overlap to a weight in [0, 1]; below 1 the two rankings are
   fused by reciprocal rank with the walk at that weight, so a walk that says nothing leaves the
   first stage as it is.
4. **Each retriever's best passage stays near the top.** Dense's and BM25's single best hits are
   the most confident each has; when the two disagree, rank fusion and the walk can sink one (a
   passage only BM25 finds, on a name the embedding blurs, ranks as if dense had never seen it).
   :func:`keep_best` moves each back into the first ``depth`` places if it fell below, at the end
   of that window, so the walk's own order above it is untouched. On the notes corpus, the second
   hop of a question is often a roster line only BM25 finds (R@5 61.5 to 68.6); musique_train
   gains a little (R@5 +0.7 with triples) and no R@2 changes.

>>> rrf([["a", "b"], ["b", "c"]], [1.0, 1.0])[0][0]
'b'
>>> fuse(["a", "b", "c"], ["x", "y", "z"], gate=0.0)
[('a', 0.01639344262295082), ('b', 0.016129032258064516), ('c', 0.015873015873015872)]
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter

#: reciprocal rank fusion's constant (Cormack et al. 2009): ranks far down still count a little
RRF_K = 60


def rrf(
    rankings: Sequence[Sequence[str]], weights: Sequence[float], *, k0: int = RRF_K
) -> list[tuple[str, float]]:
    """Weighted reciprocal rank fusion: ``sum(w / (k0 + rank))``, best first (ties: first seen)."""
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        if weight <= 0:
            continue
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k0 + rank)
    # sorted() is stable, also in reverse: ties keep the order they were first seen in
    return sorted(scores.items(), key=itemgetter(1), reverse=True)


def first_stage(
    dense: Sequence[tuple[str, float]], lexical: Sequence[tuple[str, float]], bm25_weight: float
) -> list[str]:
    """Dense and BM25 passage ids fused by weighted RRF (dense weight 1); dense alone without
    BM25 hits or weight.

    >>> first_stage([("a", .9), ("b", .8)], [("b", 3.0)], 0.5)
    ['b', 'a']
    """
    if bm25_weight <= 0 or not lexical:
        return [p for p, _ in dense]
    return [p for p, _ in rrf([[p for p, _ in dense], [p for p, _ in lexical]], [1.0, bm25_weight])]


def agreement(a: Sequence[str], b: Sequence[str], depth: int) -> float:
    """Share of the top ``depth`` of ``a`` that is also in the top ``depth`` of ``b``.

    >>> agreement(["a", "b", "c"], ["c", "a", "x"], 3)
    0.6666666666666666
    """
    if depth <= 0:
        return 0.0
    top_b = set(b[:depth])
    return sum(1 for x in a[:depth] if x in top_b) / depth


def graph_gate(
    first: Sequence[str], walked: Sequence[str], *, depth: int, low: float, high: float
) -> float:
    """The walk's weight in [0, 1]: 0 at or below ``low`` agreement with the first stage, 1 at
    or above ``high``, linear between.

    >>> graph_gate(["a", "b"], ["a", "b"], depth=2, low=0.2, high=0.5)
    1.0
    >>> graph_gate(["a", "b"], ["x", "y"], depth=2, low=0.2, high=0.5)
    0.0
    """
    if high <= low:
        return 1.0
    a = agreement(first, walked, min(depth, len(first)))
    return min(1.0, max(0.0, (a - low) / (high - low)))


def keep_best(order: Sequence[str], best: Sequence[str], depth: int) -> list[str]:
    """``order`` with each passage of ``best`` that ranks below the first ``depth`` places, or
    not at all (a walk that counts fully ranks only what it reached), moved to the end of them;
    the ones it displaces move down one place.

    >>> keep_best(["a", "b", "c", "d"], ["d", "a"], 2)
    ['a', 'd', 'b', 'c']
    >>> keep_best(list("abcde"), ["x", "e"], 3)
    ['a', 'x', 'e', 'b', 'c', 'd']
    """
    ids = list(order)
    window = min(depth, len(ids) + len(best))
    top = set(ids[:window])
    moved = [p for p in dict.fromkeys(best) if p not in top][:window]
    if not moved:
        return ids
    stay = min(window - len(moved), len(ids))
    return ids[:stay] + moved + [p for p in ids[stay:] if p not in moved]


def fuse(
    first: Sequence[str], walked: Sequence[str], *, gate: float, protect: int = 1
) -> list[tuple[str, float]]:
    """The final passage order: the first stage's top ``protect``, then the rest by
    ``gate / (k0 + walk rank) + (1 - gate) / (k0 + first-stage rank)`` (so at ``gate == 1`` the
    walk's order, at 0 the first stage's). Scores fall with the rank; a protected passage gets at
    least the best score of those after it.
    """
    fused = rrf([walked, first], [gate, 1.0 - gate])
    if not fused:
        return []
    head = list(first[:protect])
    kept = set(head)
    best = fused[0][1]
    scored = dict(fused)
    return [(p, max(scored.get(p, 0.0), best)) for p in head] + [
        (p, s) for p, s in fused if p not in kept
    ]
