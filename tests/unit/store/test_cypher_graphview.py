"""The on-demand graph view of remote stores, against an in-memory stand-in for the server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from graphmem.retrieve.ppr import personalized_pagerank
from graphmem.store.cypher.graphview import CypherGraphView
from graphmem.store.graph import GraphProjection, GraphView


class FakeRemote:
    """A server holding weighted undirected edges; counts what it is asked."""

    def __init__(self, edges: list[tuple[str, str, float]], nodes: Sequence[str] = ()) -> None:
        self.edges = list(edges)
        self.nodes = list(nodes)
        self.asked: list[list[str]] = []
        #: degree queries (a count per node, no neighbour lists)
        self.degree_calls = 0

    def adjacent(self, namespace: str, ids: Sequence[str]) -> Mapping[str, list[tuple[str, float]]]:
        self.asked.append(list(ids))
        out: dict[str, list[tuple[str, float]]] = {i: [] for i in ids}
        for s, d, w in self.edges:
            if s in out:
                out[s].append((d, w))
            if d in out:
                out[d].append((s, w))
        return out

    def degrees(self, namespace: str, ids: Sequence[str]) -> dict[str, float]:
        self.degree_calls += 1
        out = dict.fromkeys(ids, 0.0)
        for s, d, w in self.edges:
            for end in (s, d):
                if end in out:
                    out[end] += w
        return out

    def graph_nodes(self, namespace: str) -> list[str]:
        return list(self.nodes)

    def graph_edges(self, namespace: str) -> list[tuple[str, str, float]]:
        return list(self.edges)


def random_graph(n: int, m: int, seed: int) -> list[tuple[str, str, float]]:
    rng = np.random.default_rng(seed)
    edges = []
    for _ in range(m):
        a, b = (int(x) for x in rng.integers(0, n, 2))
        if a != b:
            edges.append((f"n{a}", f"n{b}", float(rng.choice([0.5, 1.0, 0.85]))))
    return edges


def scores_by_id(view: GraphView, scores: Mapping[int, float]) -> dict[str, float]:
    return {view.node_id(i): round(s, 10) for i, s in scores.items()}


def test_push_over_the_view_equals_push_in_memory_and_batches_each_round() -> None:
    edges = random_graph(300, 900, seed=1)
    edges += [("n1", "n2", 1.0), ("n1", "n2", 1.0)]  # parallel edges add up
    remote = FakeRemote(edges)
    view = CypherGraphView(remote, "ns")
    proj = GraphProjection()
    proj.add_edges(edges)
    mem = proj.view()
    seeds = {"n1": 1.0, "n7": 0.5, "n42": 0.25}
    mem_seeds = {mem.index_of(k): w for k, w in seeds.items()}
    exact = scores_by_id(
        mem,
        personalized_pagerank(
            mem,
            mem_seeds,
            damping=0.5,
            tol=1e-12,  # type: ignore[arg-type]
            max_iter=500,
        ),
    )
    for tol in (1e-3, 1e-7):
        view_seeds = {view.index_of(k): w for k, w in seeds.items()}
        got = scores_by_id(
            view,
            personalized_pagerank(
                view,
                view_seeds,
                damping=0.5,
                tol=tol,  # type: ignore[arg-type]
                engine="push",
            ),
        )
        # Push is approximate (how far depends on tol, and on the order it visits nodes in).
        err = max(abs(got.get(k, 0.0) - v) for k, v in exact.items())
        assert err < (0.02 if tol == 1e-3 else 1e-4), (tol, err)
    top = sorted(exact, key=lambda k: -exact[k])[:5]
    assert sorted(got, key=lambda k: -got[k])[:5] == top
    # At most one neighbour fetch and one degree query per round, never a node's neighbours
    # twice (the second run used the cache).
    asked = [i for batch in remote.asked for i in batch]
    assert len(asked) == len(set(asked))
    assert view.round_trips == len(remote.asked) + remote.degree_calls
    assert len(remote.asked) <= 50 and remote.degree_calls <= 50


def test_exact_over_the_loaded_matrix_and_its_patches() -> None:
    edges = random_graph(100, 300, seed=2)
    nodes = sorted({x for s, d, _ in edges for x in (s, d)} | {"lonely"})
    remote = FakeRemote(edges, nodes)
    view = CypherGraphView(remote, "ns")
    early = view.index_of("n3")  # handed out before the load: kept by it
    adj = view.matrix()
    assert view.index_of("n3") == early
    assert view.index_of("nobody") is None  # unknown once the whole graph is known
    assert view.index_of("lonely") is not None and adj.shape == (len(nodes), len(nodes))

    def rebuilt() -> dict[frozenset[str], float]:
        out: dict[frozenset[str], float] = {}
        for s, d, w in remote.edges:
            key = frozenset((s, d))
            out[key] = round(out.get(key, 0.0) + w, 9)
        return out

    def held() -> dict[frozenset[str], float]:
        coo = view.matrix().tocoo()
        return {
            frozenset((view.node_id(i), view.node_id(j))): round(float(w), 9)
            for i, j, w in zip(coo.row, coo.col, coo.data, strict=True)
            if i <= j
        }

    assert held() == rebuilt()
    # Writes through the store: an edge gone, one added to a new node, a weight changed.
    gone = remote.edges.pop(0)
    remote.edges.append(("n5", "brand-new", 0.7))
    remote.edges[3] = (remote.edges[3][0], remote.edges[3][1], 0.25)
    before = len(remote.asked)
    view.note_write({gone[0], gone[1], "n5", "brand-new", remote.edges[3][0], remote.edges[3][1]})
    assert held() == rebuilt()
    assert len(remote.asked) == before + 1  # one round trip for the patch
    assert view.index_of("brand-new") is not None


def test_degrees_without_fetching_neighbours() -> None:
    remote = FakeRemote([("hub", f"leaf{i}", 1.0) for i in range(50)] + [("a", "hub", 0.5)])
    view = CypherGraphView(remote, "ns")
    hub, a = view.index_of("hub"), view.index_of("a")
    assert hub is not None and a is not None
    assert view.degrees([hub, a]).tolist() == [50.5, 0.5]  # the fake sums weights
    view.neighbors([a])
    assert view.degrees([a, hub]).tolist() == [0.5, 50.5]  # cached: no new round trip
    assert view.round_trips == 2


class CountingRemote(FakeRemote):
    def __init__(self, edges: list[tuple[str, str, float]]) -> None:
        super().__init__(edges)
        self.full_asked: list[str] = []

    def degrees(self, namespace: str, ids: Sequence[str]) -> dict[str, float]:
        self.full_asked.extend(ids)
        return super().degrees(namespace, ids)


class OutDegreeRemote(CountingRemote):
    """A remote with FalkorDB's cheap lower bound: the weight of each node's outgoing edges."""

    def __init__(self, edges: list[tuple[str, str, float]]) -> None:
        super().__init__(edges)
        self.out_calls = 0

    def out_degrees(self, namespace: str, ids: Sequence[str]) -> dict[str, float]:
        self.out_calls += 1
        out = dict.fromkeys(ids, 0.0)
        for s, _, w in self.edges:
            if s in out:
                out[s] += w
        return out


def test_a_cheap_lower_bound_spares_the_full_count_where_it_reaches_the_threshold() -> None:
    edges = [("hub", f"leaf{i}", 1.0) for i in range(50)] + [("a", "hub", 1.0)]
    remote = OutDegreeRemote(edges)
    view = CypherGraphView(remote, "ns")
    hub, leaf = view.index_of("hub"), view.index_of("leaf0")
    assert hub is not None and leaf is not None
    got = view.degrees([hub, leaf], at_least=[10.0, 10.0]).tolist()
    # the hub's 50 outgoing edges already reach 10: only the leaf needs the full count
    assert got[0] >= 10.0 and got[1] == 1.0
    assert remote.full_asked == ["leaf0"] and view.round_trips == 2
    # a higher threshold than the bound gives: the full count now, once
    assert view.degrees([hub], at_least=[100.0]).tolist() == [51.0]
    assert remote.full_asked == ["leaf0", "hub"] and remote.out_calls == 1


def test_push_decides_the_same_with_the_lower_bound_and_asks_fewer_full_counts() -> None:
    # Hubs with many outgoing edges (the cheap bound is most of their degree), each tied to a
    # few nodes of a random graph that the seeds sit in.
    rng = np.random.default_rng(3)
    edges = [(f"h{i % 5}", f"leaf{i}", 1.0) for i in range(5_000)]
    edges += [(f"h{int(rng.integers(0, 5))}", f"n{i}", 1.0) for i in range(0, 400, 7)]
    edges += random_graph(400, 600, seed=4)
    seeds = {"n1": 1.0, "n7": 0.5, "h2": 0.01}
    results = []
    remotes = (CountingRemote(edges), OutDegreeRemote(edges))
    for remote in remotes:
        view = CypherGraphView(remote, "ns")
        idx = {view.index_of(k): w for k, w in seeds.items()}
        scores = personalized_pagerank(view, idx, damping=0.5, tol=1e-4, engine="push")  # type: ignore[arg-type]
        results.append((scores_by_id(view, scores), remote))
    (plain, _), (bounded, _) = results
    assert bounded == plain
    hubs = {f"h{i}" for i in range(5)}
    assert remotes[1].out_calls > 0
    assert hubs & set(remotes[0].full_asked) and not hubs & set(remotes[1].full_asked)
    assert len(remotes[1].full_asked) < len(remotes[0].full_asked)
