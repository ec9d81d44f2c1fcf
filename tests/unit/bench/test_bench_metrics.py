"""Retrieval metrics on hand-computed examples, plus properties that must always hold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphmem.bench.metrics import (
    Judged,
    all_found_at_k,
    conversation_scores,
    found_in_top_k,
    mean_all_found_at_k,
    mean_recall_at_k,
    multihop_scores,
    normalize_k_values,
    percentile,
    recall_at_k,
    recall_by_category,
)


def test_recall_at_k_hand_computed() -> None:
    ranking = ["p4", "p1", "p9", "p2", "p7", "p3"]
    gold = ["p1", "p2", "p3"]
    assert recall_at_k(ranking, gold, 1) == 0.0
    assert recall_at_k(ranking, gold, 2) == pytest.approx(1 / 3)
    assert recall_at_k(ranking, gold, 4) == pytest.approx(2 / 3)
    assert recall_at_k(ranking, gold, 5) == pytest.approx(2 / 3)
    assert recall_at_k(ranking, gold, 6) == 1.0
    # k beyond the ranking's length counts what there is
    assert recall_at_k(ranking, gold, 50) == 1.0
    assert recall_at_k([], gold, 5) == 0.0


def test_duplicate_gold_ids_count_once() -> None:
    assert recall_at_k(["a"], ["a", "a", "b"], 1) == 0.5


def test_a_rank_can_stand_for_several_ids() -> None:
    # two corpus ids with identical text are one stored passage: one rank, both found
    ranking = [("p1", "p1dup"), "p5", ("p2",)]
    assert found_in_top_k(ranking, 1) == {"p1", "p1dup"}
    assert recall_at_k(ranking, ["p1dup", "p2"], 1) == 0.5
    assert recall_at_k(ranking, ["p1dup", "p2"], 3) == 1.0
    assert all_found_at_k(ranking, ["p1", "p1dup"], 1)
    assert not all_found_at_k(ranking, ["p1", "p2"], 2)
    assert all_found_at_k(ranking, ["p1", "p2"], 3)


def test_means_over_questions_hand_computed() -> None:
    rankings = [["a", "b", "c"], ["x", "y", "z"], ["m", "n", "o"]]
    golds = [["a", "c"], ["y"], ["q"]]
    # k=2: 1/2, 1, 0 -> 0.5 ; k=3: 1, 1, 0 -> 2/3
    assert mean_recall_at_k(rankings, golds, 2) == pytest.approx(0.5)
    assert mean_recall_at_k(rankings, golds, 3) == pytest.approx(2 / 3)
    assert mean_all_found_at_k(rankings, golds, 2) == pytest.approx(1 / 3)
    assert mean_all_found_at_k(rankings, golds, 3) == pytest.approx(2 / 3)
    assert multihop_scores(rankings, golds, (3, 2)) == pytest.approx(
        {"recall@2": 0.5, "recall@3": 2 / 3, "all@3": 2 / 3}
    )
    assert list(multihop_scores(rankings, golds, (2, 5))) == ["recall@2", "recall@5", "all@5"]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="without gold"):
        recall_at_k(["a"], [], 1)
    with pytest.raises(ValueError, match="without gold"):
        all_found_at_k(["a"], [], 1)
    with pytest.raises(ValueError, match="at least 1"):
        recall_at_k(["a"], ["a"], 0)
    with pytest.raises(ValueError, match="2 rankings but 1"):
        mean_recall_at_k([["a"], ["b"]], [["a"]], 1)
    for bad in ([], [0], [2, -1], [True]):
        with pytest.raises(ValueError):
            normalize_k_values(bad)
    assert normalize_k_values([5, 2, 5]) == [2, 5]


def test_per_category_evidence_recall_hand_computed() -> None:
    judged = [
        Judged("temporal", ["D1:1", "D1:2", "D2:1"], ["D1:2"]),
        Judged("temporal", ["D3:3", "D1:1"], ["D1:1", "D9:9"]),
        Judged("multi-hop", ["D1:1"], ["D2:2"]),
        Judged("adversarial", ["D1:1"], []),  # no evidence: not counted
    ]
    by = recall_by_category(judged, [1, 2])
    assert list(by) == ["multi-hop", "temporal"]
    # temporal, k=1: 0 and 0 -> 0 ; k=2: 1 and 1/2 -> 0.75
    assert by["temporal"] == pytest.approx({"recall@1": 0.0, "recall@2": 0.75, "n": 2})
    assert by["multi-hop"] == {"recall@1": 0.0, "recall@2": 0.0, "n": 1}
    overall = conversation_scores(judged, [2])
    assert overall["recall@2"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert overall["by_category"] == recall_by_category(judged, [2])


def test_percentile_matches_numpy() -> None:
    values = [12.0, 3.5, 7.25, 40.0, 1.0, 9.0, 9.0]
    for q in (0, 5, 50, 95, 99, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert percentile([], 50) == 0.0
    assert percentile([4.0], 95) == 4.0
    with pytest.raises(ValueError):
        percentile(values, 101)


ids = st.sampled_from([f"p{i}" for i in range(12)])


@given(
    ranking=st.lists(ids, max_size=12),
    gold=st.lists(ids, min_size=1, max_size=5),
    k=st.integers(min_value=1, max_value=14),
)
def test_recall_properties(ranking: list[str], gold: list[str], k: int) -> None:
    r = recall_at_k(ranking, gold, k)
    assert 0.0 <= r <= 1.0
    # more ranks never lose a found passage
    assert recall_at_k(ranking, gold, k + 1) >= r
    assert all_found_at_k(ranking, gold, k) == (r == 1.0)
    # recall is the share of distinct gold ids among the first k
    assert r == pytest.approx(len(set(gold) & set(ranking[:k])) / len(set(gold)))
