"""The two exact PageRank engines, scipy's power iteration ("exact") and igraph's PRPACK
("prpack"), give the same scores to 1e-6: on random weighted graphs, with nodes that have no
edges (seeded or not), with one seed or many, at several dampings."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from graphmem.retrieve.ppr import EXACT, EXACT_ENGINES, pagerank_vector, personalized_pagerank
from graphmem.store.graph import CSRGraph, GraphProjection

TIGHT = {"tol": 1e-12, "max_iter": 10_000}


def random_graph(n: int, m: int, *, isolated: int, seed: int) -> CSRGraph:
    """``n`` nodes, ``m`` random weighted undirected edges among the first ``n - isolated``."""
    rng = np.random.default_rng(seed)
    live = n - isolated
    a, b = rng.integers(0, live, m), rng.integers(0, live, m)
    keep = a != b
    a, b, w = a[keep], b[keep], rng.uniform(0.05, 5.0, int(keep.sum()))
    adj = sp.coo_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
    adj.sum_duplicates()
    ids = [f"n{i}" for i in range(n)]
    return CSRGraph(ids, {x: i for i, x in enumerate(ids)}, adj)


def both(graph: CSRGraph, seeds: dict[int, float], damping: float) -> tuple[np.ndarray, ...]:
    scipy_v = pagerank_vector(graph, seeds, damping=damping, engine="exact", **TIGHT)
    prpack_v = pagerank_vector(graph, seeds, damping=damping, engine="prpack")
    return scipy_v, prpack_v


@pytest.mark.parametrize("damping", [0.5, 0.85])
@pytest.mark.parametrize(
    ("n", "m", "isolated", "seed"),
    [(12, 20, 2, 0), (200, 600, 10, 1), (2_000, 8_000, 50, 2), (5_000, 9_000, 0, 3)],
)
def test_engines_agree_on_random_graphs(
    n: int, m: int, isolated: int, seed: int, damping: float
) -> None:
    graph = random_graph(n, m, isolated=isolated, seed=seed)
    rng = np.random.default_rng(seed + 100)
    for k in (1, 3, 25):
        nodes = rng.choice(n, size=min(k, n), replace=False)
        seeds = {
            int(i): float(w) for i, w in zip(nodes, rng.uniform(0.01, 1.0, nodes.size), strict=True)
        }
        scipy_v, prpack_v = both(graph, seeds, damping)
        assert np.abs(scipy_v - prpack_v).max() < 1e-6, (n, k, damping)
        assert prpack_v.sum() == pytest.approx(1.0, abs=1e-6)
        # the dict form agrees too (only positive scores)
        as_dict = personalized_pagerank(graph, seeds, damping=damping, engine="prpack")
        assert set(as_dict) == set(np.flatnonzero(prpack_v > 0).tolist())


def test_a_seeded_node_with_no_edges_keeps_its_mass_in_both() -> None:
    graph = random_graph(30, 60, isolated=5, seed=7)
    lone = 29  # one of the isolated nodes
    seeds = {lone: 0.5, 0: 0.5}
    scipy_v, prpack_v = both(graph, seeds, 0.5)
    # graphmem's rule: a node with no edges keeps what reaches it (PRPACK alone would return
    # it to the seeds); with half the seed mass, it keeps exactly half
    assert scipy_v[lone] == pytest.approx(0.5, abs=1e-9)
    assert prpack_v[lone] == pytest.approx(0.5, abs=1e-9)
    assert np.abs(scipy_v - prpack_v).max() < 1e-6


def test_prpack_matches_the_closed_form() -> None:
    graph = random_graph(40, 90, isolated=3, seed=11)
    adj = graph.matrix().toarray()
    deg = adj.sum(axis=0)
    walk = np.where(deg > 0, adj / np.where(deg > 0, deg, 1.0), 0.0)
    walk[np.diag_indices(40)] += deg == 0
    s = np.zeros(40)
    s[[0, 5, 39]] = [0.2, 0.3, 0.5]
    want = np.linalg.solve(np.eye(40) - 0.5 * walk, 0.5 * s)
    got = pagerank_vector(graph, {0: 0.2, 5: 0.3, 39: 0.5}, damping=0.5, engine="prpack")
    assert np.abs(got - want).max() < 1e-9


def test_the_view_is_built_once_and_a_new_view_sees_new_edges() -> None:
    from graphmem.retrieve.ppr_igraph import igraph_of

    g = GraphProjection()
    g.add_edges([("a", "b", 1.0)])
    first = g.view()
    assert igraph_of(first) is igraph_of(first)
    g.add_edges([("b", "c", 1.0)])
    second = g.view()
    scores = personalized_pagerank(second, {second.index_of("a"): 1.0}, engine="prpack")  # type: ignore[dict-item]
    assert second.index_of("c") in scores


def test_engine_names() -> None:
    assert EXACT in EXACT_ENGINES == ("exact", "prpack")
    g = GraphProjection()
    g.add_edges([("a", "b", 1.0)])
    with pytest.raises(ValueError, match="exact engine"):
        pagerank_vector(g.view(), {0: 1.0}, engine="push")
