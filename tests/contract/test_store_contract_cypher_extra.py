"""More of the store contract: cases the Cypher stores make easy to get wrong.

Run against every backend of conftest.py (the same ``store`` fixture as test_store_contract.py):
batches that change some rows and leave others as they are, edges that arrive before their
nodes, vectors that arrive after their nodes, a fact whose ends change, repeated keys inside one
batch, names that look like query text, and the degree probe local push reads before fetching.
"""

from __future__ import annotations

import numpy as np
import pytest

from graphmem.ids import entity_id
from graphmem.models import Edge
from graphmem.store.base import Store, WriteBatch, embed_key

from support.contract import (
    DOCS,
    MODEL,
    NS,
    T0,
    build_world,
    doc_batch,
    ent,
    expected_weights,
    fact,
    graph_weights,
    passage,
    stored,
    vec,
    with_vectors,
)


def test_a_batch_that_changes_some_rows_and_not_others(store: Store, ns: NS) -> None:
    a = ns("a")
    same, grows, typed = ent(a, "Same", ["s"]), ent(a, "Grows", ["g"]), ent(a, "Typed")
    kept_p = passage(a, "Kept as is.", "doc")
    retried_p = passage(a, "Retried.", "doc", status="failed", error="boom")
    f_same = fact(a, "Same", "knows", "Grows")
    f_ends = fact(a, "Grows", "knows", "Typed")
    store.write(
        with_vectors(
            WriteBatch(
                a,
                passages=[kept_p, retried_p],
                entities=[same, grows, typed],
                facts=[f_same, f_ends],
            )
        )
    )

    # One batch: unchanged rows next to changed ones, for every kind that is upserted.
    fresh = ent(a, "Fresh")
    again = WriteBatch(
        a,
        passages=[kept_p, retried_p.model_copy(update={"status": "ok", "error": None})],
        entities=[
            same,
            ent(a, "Grows", ["g", "gg"]),
            typed.model_copy(update={"type": "T"}),
            fresh,
        ],
        facts=[f_same, f_ends.model_copy(update={"invalid_at": T0})],
    )
    store.write(with_vectors(again))

    got = store.get_entities(a, [e.id for e in (same, grows, typed, fresh)])
    assert got[same.id].aliases == ["s"]
    assert got[grows.id].aliases == ["g", "gg"]
    assert got[typed.id].type == "T"
    assert fresh.id in got
    assert store.existing_passages(a, [kept_p.id, retried_p.id]) == {
        kept_p.id: "ok",
        retried_p.id: "ok",
    }
    facts = store.get_facts(a, [f_same.id, f_ends.id])
    assert facts[f_same.id] == f_same and facts[f_ends.id].invalid_at == T0
    # The graph: the invalidated fact left it, the other stayed.
    weights = graph_weights(store.graph(a))
    assert frozenset((same.id, grows.id)) in weights
    assert frozenset((grows.id, typed.id)) not in weights


def test_an_edge_before_its_nodes(store: Store, ns: NS) -> None:
    a = ns("a")
    x, y = ent(a, "Early"), ent(a, "Late")
    p = passage(a, "Early and late.", "doc")
    # The edges first, to nodes that do not exist yet.
    store.write(
        WriteBatch(
            a,
            edges=[
                Edge(type="MENTIONS", src=p.id, dst=x.id, namespace=a),
                Edge(type="SYNONYM", src=x.id, dst=y.id, weight=0.9, namespace=a),
            ],
        )
    )
    assert store.get_entities(a, [x.id, y.id]) == {}
    assert store.stats(a).entities == 0 and store.stats(a).passages == 0
    # Then the nodes: read back whole, counted once, the edges still there.
    store.write(with_vectors(WriteBatch(a, passages=[p], entities=[x, y])))
    assert store.get_entities(a, [x.id, y.id]) == {x.id: x, y.id: y}
    assert store.get_passages(a, [p.id]) == {p.id: p}
    s = store.stats(a)
    assert (s.passages, s.entities, s.edges) == (1, 2, 2)
    assert {(e.type, e.src, e.dst) for e in store.edges_of(a, [x.id])} == {
        ("MENTIONS", p.id, x.id),
        ("SYNONYM", *sorted((x.id, y.id))),
    }
    assert graph_weights(store.graph(a)) == {
        frozenset((p.id, x.id)): 1.0,
        frozenset((x.id, y.id)): 0.9,
    }
    hits = store.vector_search(a, "entity", vec("Early")[None, :], 2)[0]
    assert hits[0][0] == x.id


def test_vectors_that_arrive_after_their_nodes(store: Store, ns: NS) -> None:
    a = ns("a")
    first, second = ent(a, "First"), ent(a, "Second")
    b1 = WriteBatch(a, entities=[first, second], embedding_model=MODEL)
    b1.vectors = {embed_key(first): vec("First")}
    store.write(b1)
    assert [i for i, _ in store.vector_search(a, "entity", vec("Second")[None, :], 5)[0]] == [
        first.id
    ]
    store.write(WriteBatch(a, embedding_model=MODEL, vectors={embed_key(second): vec("Second")}))
    hits = store.vector_search(a, "entity", vec("Second")[None, :], 5)[0]
    assert hits[0] == (second.id, pytest.approx(1.0, abs=1e-5))


def test_a_fact_whose_ends_change_moves_in_the_graph(store: Store, ns: NS) -> None:
    a = ns("a")
    x, y, z = ent(a, "X"), ent(a, "Y"), ent(a, "Z")
    f = fact(a, "X", "likes", "Y")
    store.write(WriteBatch(a, entities=[x, y, z], facts=[f]))
    assert frozenset((x.id, y.id)) in graph_weights(store.graph(a))
    moved = f.model_copy(update={"object": z.id})
    store.write(WriteBatch(a, facts=[moved]))
    weights = graph_weights(store.graph(a))
    assert frozenset((x.id, z.id)) in weights and frozenset((x.id, y.id)) not in weights
    assert [g.id for g in store.facts_between(a, [y.id])] == []
    assert [g.id for g in store.facts_between(a, [z.id])] == [f.id]
    assert dict(store.adjacent(a, [x.id])[x.id]) == {z.id: 1.0}


def test_keys_repeated_inside_one_batch(store: Store, ns: NS) -> None:
    a = ns("a")
    e1, e2 = ent(a, "Twice", ["one"]), ent(a, "Twice", ["two", "one"])
    x = ent(a, "Other")
    edges = [
        Edge(type="SYNONYM", src=e1.id, dst=x.id, weight=w, namespace=a) for w in (0.7, 0.95, 0.8)
    ]
    store.write(WriteBatch(a, entities=[e1, e2, x], edges=edges))
    got = store.get_entities(a, [e1.id])[e1.id]
    assert got.aliases == ["one", "two"]
    assert [(e.weight) for e in store.edges_of(a, [e1.id])] == [0.95]
    assert store.stats(a).entities == 2 and store.stats(a).edges == 1
    # The same keys again in a later batch (each now exists already).
    store.write(WriteBatch(a, entities=[e2, e1], edges=list(reversed(edges))))
    assert store.get_entities(a, [e1.id])[e1.id].aliases == ["one", "two"]
    assert [(e.weight) for e in store.edges_of(a, [e1.id])] == [0.95]


NAMES = [
    "O'Brien",
    'say "hi"',
    "back`tick",
    "} { $ns",
    "'}) DETACH DELETE n //",
    "MATCH (n) DETACH DELETE n",
    "line\nbreak\ttab",
    "Zoë 東京 🎉",
    "back\\slash\\u0041",
]


def test_names_that_look_like_query_text_are_data(store: Store, ns: NS) -> None:
    a = ns("a")
    entities = [ent(a, n, [n + "!"]) for n in NAMES]
    passages = [passage(a, n, n, metadata={"k": n}) for n in NAMES]
    facts = [fact(a, NAMES[i], NAMES[i + 1], NAMES[i + 1]) for i in range(len(NAMES) - 1)]
    edges = [
        Edge(type="MENTIONS", src=p.id, dst=e.id, namespace=a, props={"why": n})
        for p, e, n in zip(passages, entities, NAMES, strict=True)
    ]
    store.write(
        with_vectors(WriteBatch(a, passages=passages, entities=entities, facts=facts, edges=edges))
    )
    assert store.get_entities(a, [e.id for e in entities]) == {e.id: e for e in entities}
    assert store.get_passages(a, [p.id for p in passages]) == {p.id: p for p in passages}
    assert store.get_facts(a, [f.id for f in facts]) == {f.id: f for f in facts}
    assert {e.props["why"] for e in store.edges_of(a, [p.id for p in passages])} == set(NAMES)
    report = store.delete_source(a, NAMES[4])
    assert report.passages == 1
    assert store.stats(a).passages == len(NAMES) - 1


def test_a_deleted_namespace_can_be_written_again(store: Store, ns: NS) -> None:
    a = ns("a")
    store.write(doc_batch(a, DOCS))
    store.graph(a).matrix()
    store.delete_namespace(a)
    batch = doc_batch(a, DOCS[:1])
    store.write(batch)
    assert store.stats(a).passages == 1
    facts, edges = stored(store, a, batch)
    assert graph_weights(store.graph(a)) == expected_weights(facts, edges)
    hits = store.vector_search(a, "entity", vec("Alice")[None, :], 1)[0]
    assert hits[0][0] == entity_id(a, "Alice")
    assert np.allclose(
        store.cached_vectors(MODEL, [embed_key(batch.entities[0])])[embed_key(batch.entities[0])],
        vec("Alice"),
    )


def test_degrees_bound_the_weighted_degree(store: Store, ns: NS) -> None:
    w = build_world(store, ns("a"))
    a = w.ns
    nodes = [*(p.id for p in w.batch.passages), *(e.id for e in w.batch.entities), w.he.id, w.ev.id]
    adj = store.adjacent(a, nodes)
    view = store.graph(a)
    index = [i for n in nodes if (i := view.index_of(n)) is not None]
    assert len(index) == len(nodes)
    # What local push reads: the in-memory graph's weighted degree, or a server store's count.
    readings = [dict(zip(nodes, view.degrees(index).tolist(), strict=True))]
    server = getattr(store, "degrees", None)  # the Cypher stores' probe, read before a fetch
    if server is not None:
        readings.append(server(a, [*nodes, "e:missing"]))
        assert readings[-1]["e:missing"] == 0.0
    for got in readings:
        for node in nodes:
            # Push leaves a node unfetched when its residual is small for this degree: it must
            # never be below the weighted degree its fetched neighbourhood would show.
            assert got[node] >= sum(x for _, x in adj[node]) - 1e-9, node
    if server is None:
        # In memory the degree is exact: a passage's MENTIONS (weight 1); STATES is no PageRank
        # edge. (The servers' count includes STATES: an upper bound, as checked above.)
        for p in w.batch.passages:
            assert readings[0][p.id] == len(adj[p.id]) > 0, p.id
