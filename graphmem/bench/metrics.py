"""Retrieval metrics: pure functions over ranked ids and gold ids.

A ranking is a sequence of *ranks*; each rank is one retrieved unit, given as one id (``str``) or
as a collection of ids that one unit stands for (identical passages collapse into one stored
passage, so finding it finds all of their ids). ``k`` counts ranks, not ids.

>>> recall_at_k(["p1", "p7", "p2"], gold=["p2", "p3"], k=2)
0.0
>>> recall_at_k(["p1", "p7", "p2"], gold=["p2", "p3"], k=3)
0.5
>>> all_found_at_k([{"p2", "p3"}, "p9"], gold=["p2", "p3"], k=1)
True
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

Rank = str | Collection[str]
Ranking = Sequence[Rank]


def found_in_top_k(ranking: Ranking, k: int) -> set[str]:
    """All ids in the first ``k`` ranks."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    found: set[str] = set()
    for rank in ranking[:k]:
        if isinstance(rank, str):
            found.add(rank)
        else:
            found.update(rank)
    return found


def recall_at_k(ranking: Ranking, gold: Collection[str], k: int) -> float:
    """Share of the (distinct) gold ids found in the first ``k`` ranks; gold must not be empty."""
    gold_set = set(gold)
    if not gold_set:
        raise ValueError("recall is undefined without gold ids")
    return len(gold_set & found_in_top_k(ranking, k)) / len(gold_set)


def all_found_at_k(ranking: Ranking, gold: Collection[str], k: int) -> bool:
    """True when every gold id is in the first ``k`` ranks; gold must not be empty."""
    gold_set = set(gold)
    if not gold_set:
        raise ValueError("all-found is undefined without gold ids")
    return gold_set <= found_in_top_k(ranking, k)


def recall_any_at_k(ranking: Ranking, gold: Collection[str], k: int) -> float:
    """1.0 when at least one gold id is in the first ``k`` ranks, else 0.0 (LongMemEval's
    ``recall_any``); gold must not be empty.

    >>> recall_any_at_k(["s4", "s2", "s9"], gold=["s2", "s7"], k=2)
    1.0
    """
    gold_set = set(gold)
    if not gold_set:
        raise ValueError("recall_any is undefined without gold ids")
    return 1.0 if gold_set & found_in_top_k(ranking, k) else 0.0


def ndcg_at_k(ranking: Ranking, gold: Collection[str], k: int) -> float:
    """NDCG@k with binary gains, as LongMemEval scores turns: a rank gains 1 when it holds a gold
    id, discounted by ``log2(rank + 1)``; the ideal puts ``min(len(gold), k)`` gold ranks first.

    A rank that stands for several gold ids gains 1 once, and a rank whose gold ids were all found
    above gains nothing, so the score stays within 0..1.

    >>> round(ndcg_at_k(["x", "g1"], gold=["g1"], k=10), 4)
    0.6309
    """
    gold_set = set(gold)
    if not gold_set:
        raise ValueError("NDCG is undefined without gold ids")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    dcg = 0.0
    found: set[str] = set()
    for i, rank in enumerate(ranking[:k]):
        ids = {rank} if isinstance(rank, str) else set(rank)
        if (ids & gold_set) - found:
            dcg += 1.0 / math.log2(i + 2)
            found |= ids
    ideal = math.fsum(1.0 / math.log2(i + 2) for i in range(min(len(gold_set), k)))
    return dcg / ideal


def sessions_in_rank_order(ranking: Ranking, session_of: Mapping[str, str]) -> list[str]:
    """The sessions of ranked turns, each once, in the order of its best-ranked turn.

    LongMemEval's turn-to-session mapping: map each ranked turn to its session and keep the first
    occurrence, so the first ``k`` sessions are what ``recall_any@k``/``recall_all@k`` judge. Turns
    with no known session take no place.

    >>> sessions_in_rank_order(["a#3", ("b#1",), "a#0", "c#2"], {"a#3": "a", "a#0": "a",
    ...                         "b#1": "b", "c#2": "c"})
    ['a', 'b', 'c']
    """
    out: list[str] = []
    seen: set[str] = set()
    for rank in ranking:
        for turn in (rank,) if isinstance(rank, str) else rank:
            session = session_of.get(turn)
            if session is not None and session not in seen:
                seen.add(session)
                out.append(session)
    return out


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean; 0.0 for no values (an empty benchmark has nothing found)."""
    items = list(values)
    return math.fsum(items) / len(items) if items else 0.0


def mean_recall_at_k(
    rankings: Sequence[Ranking], golds: Sequence[Collection[str]], k: int
) -> float:
    """Recall@k averaged over questions (HippoRAG's passage recall)."""
    _same_length(rankings, golds)
    return mean(recall_at_k(r, g, k) for r, g in zip(rankings, golds, strict=True))


def mean_all_found_at_k(
    rankings: Sequence[Ranking], golds: Sequence[Collection[str]], k: int
) -> float:
    """Share of questions whose gold ids are all in the first ``k`` ranks."""
    _same_length(rankings, golds)
    return mean(float(all_found_at_k(r, g, k)) for r, g in zip(rankings, golds, strict=True))


def multihop_scores(
    rankings: Sequence[Ranking], golds: Sequence[Collection[str]], k_values: Sequence[int]
) -> dict[str, float]:
    """``{"recall@k": …}`` for every k, then ``"all@K"`` for the largest K (fractions 0–1).

    >>> multihop_scores([["a", "b"]], [["b"]], (1, 2))
    {'recall@1': 0.0, 'recall@2': 1.0, 'all@2': 1.0}
    """
    ks = normalize_k_values(k_values)
    out = {f"recall@{k}": mean_recall_at_k(rankings, golds, k) for k in ks}
    out[f"all@{ks[-1]}"] = mean_all_found_at_k(rankings, golds, ks[-1])
    return out


@dataclass(frozen=True, slots=True)
class Judged:
    """One conversation question's outcome: its category, ranking and gold (evidence) ids."""

    category: str
    ranking: Ranking
    gold: Collection[str]


def recall_by_category(
    judged: Sequence[Judged], k_values: Sequence[int]
) -> dict[str, dict[str, float]]:
    """Evidence Recall@k per category plus ``"n"`` (questions counted); no-gold ones are left out.

    >>> recall_by_category([Judged("temporal", ["D1:3"], ["D1:3"]), Judged("adv", ["x"], [])], [5])
    {'temporal': {'recall@5': 1.0, 'n': 1}}
    """
    ks = normalize_k_values(k_values)
    groups: dict[str, list[Judged]] = {}
    for j in judged:
        if set(j.gold):
            groups.setdefault(j.category, []).append(j)
    out: dict[str, dict[str, float]] = {}
    for name in sorted(groups):
        items = groups[name]
        row: dict[str, float] = {
            f"recall@{k}": mean(recall_at_k(j.ranking, j.gold, k) for j in items) for k in ks
        }
        row["n"] = len(items)
        out[name] = row
    return out


def conversation_scores(judged: Sequence[Judged], k_values: Sequence[int]) -> dict[str, object]:
    """Overall evidence Recall@k over questions with evidence, and ``by_category`` (issue 5 JSON)."""
    ks = normalize_k_values(k_values)
    with_gold = [j for j in judged if set(j.gold)]
    overall: dict[str, object] = {
        f"recall@{k}": mean(recall_at_k(j.ranking, j.gold, k) for j in with_gold) for k in ks
    }
    overall["by_category"] = recall_by_category(judged, ks)
    return overall


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """The area under the ROC curve of a score separating ``positives`` from ``negatives``: the
    chance that a random positive scores above a random negative, ties counting half (None when
    either set is empty).

    >>> auroc([0.9, 0.4], [0.5, 0.1])
    0.75
    """
    if not positives or not negatives:
        return None
    wins = 0.0
    for p in positives:
        for n in negatives:
            wins += 1.0 if p > n else 0.5 if p == n else 0.0
    return wins / (len(positives) * len(negatives))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) with linear interpolation, as numpy's default; 0.0 if empty.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    data = sorted(values)
    if not data:
        return 0.0
    pos = (len(data) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def normalize_k_values(k_values: Sequence[int]) -> list[int]:
    """Sorted distinct positive ks; ``ValueError`` on an empty or bad list."""
    ks = sorted(set(k_values))
    if not ks or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in ks):
        raise ValueError(f"k values must be positive integers, got {list(k_values)}")
    return ks


def _same_length(rankings: Sequence[object], golds: Sequence[object]) -> None:
    if len(rankings) != len(golds):
        raise ValueError(f"{len(rankings)} rankings but {len(golds)} gold lists")
