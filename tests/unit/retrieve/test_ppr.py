"""Personalized PageRank: both engines against a closed-form reference, and push stays local."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from graphmem.retrieve.ppr import personalized_pagerank
from graphmem.store.graph import CSRGraph, FloatArray, GraphProjection, IntArray


def reference_ppr(adj: np.ndarray, seeds: dict[int, float], damping: float) -> np.ndarray:
    """Solve p = (1-d) s + d (W p) directly, with W column-stochastic and dangling self-loops."""
    n = adj.shape[0]
    deg = adj.sum(axis=0)
    w = np.zeros_like(adj, dtype=float)
    for j in range(n):
        if deg[j] > 0:
            w[:, j] = adj[:, j] / deg[j]
        else:
            w[j, j] = 1.0
    s = np.zeros(n)
    total = sum(seeds.values())
    for i, v in seeds.items():
        s[i] = v / total
    return np.linalg.solve(np.eye(n) - damping * w, (1 - damping) * s)


def graph_from_dense(adj: np.ndarray) -> CSRGraph:
    ids = [f"n{i}" for i in range(adj.shape[0])]
    return CSRGraph(ids, {x: i for i, x in enumerate(ids)}, sp.csr_matrix(adj))


@st.composite
def weighted_graphs(draw: st.DrawFn) -> tuple[np.ndarray, dict[int, float]]:
    n = draw(st.integers(2, 12))
    adj = np.zeros((n, n))
    for _ in range(draw(st.integers(0, 3 * n))):
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        if i != j:
            w = draw(st.floats(0.1, 5.0))
            adj[i, j] += w
            adj[j, i] += w
    seeds = draw(
        st.dictionaries(st.integers(0, n - 1), st.floats(0.01, 1.0), min_size=1, max_size=3)
    )
    return adj, seeds


@settings(max_examples=60, deadline=None)
@given(weighted_graphs(), st.sampled_from([0.3, 0.5, 0.85]))
def test_both_engines_match_the_closed_form(
    case: tuple[np.ndarray, dict[int, float]], damping: float
) -> None:
    adj, seeds = case
    want = reference_ppr(adj, seeds, damping)
    g = graph_from_dense(adj)
    exact = personalized_pagerank(g, seeds, damping=damping, tol=1e-12, max_iter=1000)
    push = personalized_pagerank(
        g, seeds, damping=damping, tol=1e-10, max_iter=10_000, engine="push"
    )
    for scores, tol in ((exact, 1e-8), (push, 1e-5)):
        got = np.array([scores.get(i, 0.0) for i in range(len(want))])
        assert np.allclose(got, want, atol=tol), (got, want)
        assert got.sum() == pytest.approx(1.0, abs=1e-4)


def test_seed_ranks_first_and_mass_decays_with_distance() -> None:
    g = GraphProjection()
    g.add_edges([("a", "b", 1.0), ("b", "c", 1.0), ("c", "d", 1.0)])
    v = g.view()
    scores = personalized_pagerank(v, {v.index_of("a"): 1.0})  # type: ignore[dict-item]
    order = sorted(scores, key=lambda i: -scores[i])
    assert [v.node_id(i) for i in order] == ["a", "b", "c", "d"]


class CountingView:
    """``view`` recording whose neighbours push asked for; with or without its degree probe."""

    def __init__(self, view: CSRGraph, *, with_degrees: bool) -> None:
        self.view = view
        self.asked: list[int] = []
        self.num_nodes = view.num_nodes
        self.index_of, self.node_id, self.matrix = view.index_of, view.node_id, view.matrix
        if with_degrees:
            self.degrees = view.degrees

    def neighbors(self, nodes: Sequence[int]) -> list[tuple[IntArray, FloatArray]]:
        self.asked.extend(nodes)
        return self.view.neighbors(nodes)


def test_push_only_fetches_the_seeds_neighbourhood() -> None:
    """A huge component far from the seeds is never asked for: cost follows the neighbourhood."""
    g = GraphProjection()
    g.add_edges([("s", "x", 1.0), ("x", "y", 1.0)])
    g.add_edges((f"far{i}", f"far{i + 1}", 1.0) for i in range(20_000))
    view = g.view()
    counting = CountingView(view, with_degrees=False)
    asked = counting.asked

    scores = personalized_pagerank(counting, {view.index_of("s"): 1.0}, engine="push", tol=1e-8)  # type: ignore[dict-item]
    assert {view.node_id(i) for i in asked} <= {"s", "x", "y"}
    assert set(scores) <= {view.index_of(n) for n in ("s", "x", "y")}


def test_bad_arguments_are_refused() -> None:
    g = GraphProjection()
    g.add_edges([("a", "b", 1.0)])
    v = g.view()
    with pytest.raises(ValueError, match="seed"):
        personalized_pagerank(v, {})
    with pytest.raises(ValueError, match="damping"):
        personalized_pagerank(v, {0: 1.0}, damping=1.0)
    with pytest.raises(ValueError, match="engine"):
        personalized_pagerank(v, {0: 1.0}, engine="magic")  # type: ignore[arg-type]


def test_projection_view_is_cached_until_a_write() -> None:
    g = GraphProjection()
    g.add_edges([("a", "b", 1.0)])
    first = g.view()
    assert g.view() is first
    g.add_edges([("b", "c", 2.0)])
    second = g.view()
    assert second is not first
    assert second.num_nodes == 3 and first.num_nodes == 2
    # an old view stays valid (append-only ids)
    assert first.index_of("c") is None and second.index_of("c") == 2


def test_push_settles_a_thinly_reached_hub_without_fetching_it() -> None:
    """A hub reached with too little mass to activate any neighbour keeps its share and is never
    fetched, so its degree (which grows with the graph) does not cost the question anything."""
    leaves = 50_000
    g = GraphProjection()
    g.add_edges([("s", "a", 1.0), ("a", "b", 1.0), ("b", "c", 1.0), ("a", "hub", 0.01)])
    g.add_edges(("hub", f"leaf{i}", 1.0) for i in range(leaves))
    view = g.view()
    counting = CountingView(view, with_degrees=True)
    asked = counting.asked

    hub = view.index_of("hub")
    # reached thinly through "a": its residual is small for its degree, so it is not fetched
    seeds = {view.index_of("s"): 1.0}
    push = personalized_pagerank(counting, seeds, engine="push", tol=1e-4)  # type: ignore[arg-type,dict-item]
    exact = personalized_pagerank(view, seeds, tol=1e-10, max_iter=500)  # type: ignore[dict-item]
    assert hub not in asked and len(asked) <= 5
    # (push leaves at most tol x degree unpushed at a node: here the hub's own ~1e-3)
    assert abs(push.get(hub, 0.0) - exact[hub]) < 2e-3
    for name in ("s", "a", "b"):
        i = view.index_of(name)
        assert abs(push[i] - exact[i]) < 0.01, name
    # seeded with a little weight: it keeps its own share (settled) and is still not fetched
    seeds[hub] = 0.001
    push = personalized_pagerank(counting, seeds, engine="push", tol=1e-4)  # type: ignore[arg-type,dict-item]
    exact = personalized_pagerank(view, seeds, tol=1e-10, max_iter=500)  # type: ignore[dict-item]
    assert hub not in asked and hub in push
    assert abs(push[hub] - exact[hub]) < 1e-3


def test_node_scores_top_agrees_across_dense_sparse_and_a_plain_sort() -> None:
    from graphmem.retrieve.ppr import pagerank_vector
    from graphmem.retrieve.scores import NodeScores

    g = GraphProjection()
    g.add_edges([(f"e:{i}", f"p:{i % 7}", 1.0) for i in range(40)])
    g.add_edges([(f"e:{i}", f"e:{(i * 3) % 40}", 0.5) for i in range(40)])
    view = g.view()
    seeds = {view.index_of("e:1"): 1.0, view.index_of("p:3"): 0.2}
    vector = pagerank_vector(view, seeds, damping=0.5, tol=1e-8)  # type: ignore[arg-type]
    dense = NodeScores(view, vector=vector)
    sparse = NodeScores(view, sparse={i: float(x) for i, x in enumerate(vector) if x > 0})
    for prefix, n in (("e:", 5), ("p:", 3), ("p:", 50), ("x:", 4)):
        plain = sorted(
            ((k, v) for k, v in dense.items() if k.startswith(prefix)),
            key=lambda t: (-t[1], view.index_of(t[0])),
        )[:n]
        assert dense.top(prefix, n) == sparse.top(prefix, n) == plain, prefix
    assert dense.top("e:", 0) == []
