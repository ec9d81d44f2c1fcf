"""The first stage and its fusion with the walk: a walk that says nothing changes nothing."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from graphmem.retrieve.fusion import agreement, first_stage, fuse, graph_gate, keep_best, rrf


def test_rrf_weights_and_ties() -> None:
    fused = rrf([["a", "b", "c"], ["b"]], [1.0, 1.0])
    assert [p for p, _ in fused] == ["b", "a", "c"]
    assert abs(dict(fused)["b"] - (1 / 62 + 1 / 61)) < 1e-12
    # a zero weight drops the ranking; equal scores keep the order first seen
    assert [p for p, _ in rrf([["x", "y"], ["y", "x"]], [1.0, 0.0])] == ["x", "y"]
    assert [p for p, _ in rrf([["x"], ["y"]], [1.0, 1.0])] == ["x", "y"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from("abcdefgh"), unique=True, max_size=8), max_size=4),
    st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0]), min_size=4, max_size=4),
)
def test_rrf_orders_by_score_then_by_first_seen(rankings: list[list[str]], w: list[float]) -> None:
    weights = w[: len(rankings)]
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            if weight > 0:
                scores[item] = scores.get(item, 0.0) + weight / (60 + rank)
    seen = list(scores)
    expected = sorted(scores, key=lambda i: (-scores[i], seen.index(i)))
    assert [i for i, _ in rrf(rankings, weights)] == expected


def test_first_stage_is_dense_without_bm25() -> None:
    dense = [("a", 0.9), ("b", 0.8), ("c", 0.7)]
    assert first_stage(dense, [("c", 9.0)], 0.0) == ["a", "b", "c"]
    assert first_stage(dense, [], 0.5) == ["a", "b", "c"]
    # a rare name BM25 ranks first moves up, but dense keeps more weight
    assert first_stage(dense, [("c", 9.0), ("a", 1.0)], 0.5)[0] == "a"
    assert first_stage(dense, [("c", 9.0), ("a", 1.0)], 1.0)[:2] == ["a", "c"]


def test_gate_follows_agreement() -> None:
    first = [f"p{i}" for i in range(10)]
    assert graph_gate(first, first, depth=10, low=0.2, high=0.5) == 1.0
    unrelated = [f"q{i}" for i in range(10)]
    assert graph_gate(first, unrelated, depth=10, low=0.2, high=0.5) == 0.0
    half = first[:3] + unrelated[:7]  # agreement 0.3: a third of the way from low to high
    assert abs(graph_gate(first, half, depth=10, low=0.2, high=0.5) - 1 / 3) < 1e-9
    assert agreement(first, half, 10) == 0.3


def test_trusted_walk_orders_all_but_the_protected_top() -> None:
    first = ["a", "b", "c", "d"]
    walked = ["c", "d", "a", "b"]
    out = [p for p, _ in fuse(first, walked, gate=1.0, protect=1)]
    assert out == ["a", "c", "d", "b"]
    scores = [s for _, s in fuse(first, walked, gate=1.0, protect=1)]
    assert scores == sorted(scores, reverse=True)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(min_value=10, max_value=60), seed=st.integers(0, 10_000))
def test_a_noise_walk_never_ranks_below_the_first_stage(n: int, seed: int) -> None:
    """The walk of unrelated facts (passages the first stage never ranked) leaves its order."""
    rng = random.Random(seed)
    first = [f"p{i}" for i in range(n)]
    noise = [f"n{i}" for i in range(n)]
    rng.shuffle(noise)
    walked = noise[: n // 2] + rng.sample(first[10:], k=min(len(first[10:]), n // 4))
    gate = graph_gate(first, walked, depth=10, low=0.2, high=0.5)
    assert gate == 0.0
    out = [p for p, _ in fuse(first, walked, gate=gate, protect=1)]
    assert out[:n] == first


def test_each_retrievers_best_stays_in_the_top_window() -> None:
    # a walk that counts fully ranks only what it reached: BM25's best is not in it at all
    walked = [f"w{i}" for i in range(8)]
    order = keep_best(walked, ["w6", "bm25-only"], 5)
    assert order[:3] == ["w0", "w1", "w2"] and set(order[3:5]) == {"w6", "bm25-only"}
    assert order[5:] == ["w3", "w4", "w5", "w7"]
    # already in the window: nothing moves; off at depth 0
    assert keep_best(walked, ["w1"], 5) == walked
    assert keep_best(walked, ["bm25-only"], 0) == walked


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 30), depth=st.integers(0, 8), seed=st.integers(0, 10_000))
def test_keep_best_is_a_stable_reordering(n: int, depth: int, seed: int) -> None:
    rng = random.Random(seed)
    order = [f"p{i}" for i in range(n)]
    best = rng.sample([*order, "new1", "new2"], k=min(2, n + 2))
    out = keep_best(order, best, depth)
    moved = [b for b in best if b not in order[:depth]][:depth]
    assert sorted(out) == sorted(set(order) | set(moved))
    assert all(b in out[:depth] for b in moved)
    others = [p for p in out if p not in best]
    assert others == [p for p in order if p not in best]  # everyone else keeps their order


def test_the_first_stage_fuses_bm25_only_from_an_index_that_ranks_by_bm25() -> None:
    from typing import Any

    from graphmem.retrieve.passages import PassageSearchSettings, lexical_hits

    class Index:
        def __init__(self, ranking: str) -> None:
            self.text_ranking = ranking
            self.asked: list[tuple[str, str, int]] = []

        def text_search(self, namespace: str, query: str, k: int) -> list[tuple[str, float]]:
            self.asked.append((namespace, query, k))
            return [("p:1", 2.0)]

    settings = PassageSearchSettings(passage_candidates=50)
    bm25, tfidf = Index("bm25"), Index("tfidf")
    store: Any = bm25
    assert lexical_hits(store, "ns", "Who?", 5, settings) == [("p:1", 2.0)]
    assert bm25.asked == [("ns", "Who?", 50)]  # as many as the dense candidates
    store = tfidf
    assert lexical_hits(store, "ns", "Who?", 5, settings) == [] and tfidf.asked == []
    store = bm25
    assert lexical_hits(store, "ns", "Who?", 5, PassageSearchSettings(bm25_weight=0.0)) == []


def test_a_walk_that_reaches_no_passage_ranks_none() -> None:
    """Facts but no passage (an episodes-only namespace asked for passages): an empty ranking,
    not an error."""
    import numpy as np

    from graphmem.models import Entity, Fact
    from graphmem.retrieve.passages import PassageSearchSettings, retrieve
    from graphmem.store.base import WriteBatch, embed_key
    from graphmem.store.sqlite.store import SQLiteStore

    with SQLiteStore(":memory:") as store:
        ents = [
            Entity(id=f"e:{n}", namespace="n", name=n, normalized=n.lower())
            for n in ("Ada", "Lisbon")
        ]
        fact = Fact(
            id="f:1",
            namespace="n",
            subject="e:Ada",
            predicate="lives in",
            object="e:Lisbon",
            text="Ada lives in Lisbon",
        )
        vectors = {embed_key(n): np.ones(4, dtype=np.float32) for n in [*ents, fact]}
        store.write(
            WriteBatch(
                namespace="n", entities=ents, facts=[fact], embedding_model="m", vectors=vectors
            )
        )
        found = retrieve(store, "n", np.ones(4, dtype=np.float32), 3, PassageSearchSettings())
    assert found.hits == []
