"""The store contract: one suite, run against every backend registered in conftest.py.

Data builders live in tests/support/contract.py; the ``store``, ``ns`` and ``backend`` fixtures in conftest.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import numpy as np
import pytest

from graphmem.errors import InputError, StoreError
from graphmem.ids import (
    entity_id,
    episode_id,
    event_id,
    fact_id,
    hyperedge_id,
    text_hash,
)
from graphmem.models import DeleteReport, Edge, Entity, Episode, Event, Hyperedge
from graphmem.store.base import NODE_KINDS, NodeKind, Store, WriteBatch, embed_key, kind_of

from support.contract import (
    DIM,
    DOCS,
    MODEL,
    NS,
    T0,
    build_world,
    doc_batch,
    edge_keys,
    ent,
    expected_weights,
    fact,
    graph_weights,
    passage,
    stored,
    vec,
    with_vectors,
)

# ------------------------------------------------------------------------------ writes


def test_write_then_get_round_trips_every_node_kind(store: Store, ns: NS) -> None:
    a = ns("a")
    alice, acme = ent(a, "Alice", ["Al"]), ent(a, "Acme")
    ev = Event(
        id=event_id(a, "Alice joined Acme", "2020"),
        description="Alice joined Acme",
        time=datetime(2020, 3, 1, tzinfo=UTC),
        time_text="March 2020",
        participants=[alice.id, acme.id],
        namespace=a,
    )
    he = Hyperedge(
        id=hyperedge_id(a, "team", "alice-acme"),
        description="Alice and Acme's team",
        kind="team",
        members=[alice.id, acme.id],
        namespace=a,
    )
    ep = Episode(
        id=episode_id(a, "s1", T0.isoformat(), "user", "I met Alice."),
        text="I met Alice.",
        time=T0,
        speaker="user",
        session="s1",
        source="chat",
        metadata={"turn": 1},
        namespace=a,
    )
    p = passage(a, "Alice works at Acme.", "doc", title="T", metadata={"k": [1, "x"]})
    f = fact(a, "Alice", "works at", "Acme", valid_at=T0, confidence=0.5)
    batch = with_vectors(
        WriteBatch(
            a,
            passages=[p],
            entities=[alice, acme],
            facts=[f],
            events=[ev],
            hyperedges=[he],
            episodes=[ep],
        )
    )
    store.write(batch)

    assert store.get_passages(a, [p.id, "p:missing"]) == {p.id: p}
    assert store.get_entities(a, [alice.id, acme.id]) == {alice.id: alice, acme.id: acme}
    assert store.get_facts(a, [f.id]) == {f.id: f}
    assert store.get_events(a, [ev.id]) == {ev.id: ev}
    assert store.get_hyperedges(a, [he.id]) == {he.id: he}
    assert store.get_episodes(a, [ep.id]) == {ep.id: ep}
    assert store.get_entities(a, []) == {}
    assert store.existing_passages(a, [p.id, "p:missing"]) == {p.id: "ok"}


def test_writing_the_same_batch_twice_changes_nothing(store: Store, ns: NS) -> None:
    a = ns("a")
    batch = doc_batch(a, DOCS)
    store.write(batch)
    stats1, g1 = store.stats(a), graph_weights(store.graph(a))
    facts1, edges1 = stored(store, a, batch)
    store.write(batch)
    store.write(doc_batch(a, DOCS))  # rebuilt from scratch: equal objects, new instances
    assert store.stats(a) == stats1
    assert graph_weights(store.graph(a)) == g1
    facts2, edges2 = stored(store, a, batch)
    assert sorted(f.id for f in facts2) == sorted(f.id for f in facts1)
    assert len(edges2) == len(edges1) == len(edge_keys(edges1))
    assert stats1.passages == 3 and stats1.facts == 4 and stats1.entities == 7


def test_batch_larger_than_one_query_chunk(store: Store, ns: NS) -> None:
    a = ns("a")
    # Past the 900 ids the SQLite store puts in one IN (...) query; server stores batch too.
    triples = [(f"Person {i}", "knows", f"Person {i + 1}") for i in range(1000)]
    batch = doc_batch(a, [("big", "one big passage", triples)])
    store.write(batch)
    store.write(batch)
    stats = store.stats(a)
    assert (stats.entities, stats.facts, stats.passages) == (1001, 1000, 1)
    ids = [e.id for e in batch.entities]
    assert len(store.get_entities(a, ids)) == 1001
    assert len(store.facts_between(a, ids)) == 1000
    assert len(store.facts_of_passages(a, [batch.passages[0].id])[batch.passages[0].id]) == 1000


def test_entity_upsert_adds_new_aliases_only(store: Store, ns: NS) -> None:
    a = ns("a")
    store.write(WriteBatch(a, entities=[ent(a, "Acme", ["ACME Corp"])]))
    store.write(WriteBatch(a, entities=[ent(a, "ACME", ["Acme Inc", "ACME Corp"])]))
    got = store.get_entities(a, [entity_id(a, "Acme")])[entity_id(a, "Acme")]
    assert got.name == "Acme"
    assert got.aliases == ["ACME Corp", "Acme Inc"]
    assert store.stats(a).entities == 1


def test_fact_upsert_replaces_the_row_and_the_graph_follows(store: Store, ns: NS) -> None:
    a = ns("a")
    batch = doc_batch(a, DOCS[:1])
    store.write(batch)
    f = batch.facts[0]
    pair = frozenset((f.subject, f.object))
    assert graph_weights(store.graph(a))[pair] == 1.0
    ended = f.model_copy(update={"invalid_at": T0 + timedelta(days=30), "expired_at": T0})
    store.write(WriteBatch(a, facts=[ended]))
    assert store.get_facts(a, [f.id])[f.id] == ended
    assert pair not in graph_weights(store.graph(a))  # invalidated facts leave the graph
    assert store.stats(a).facts == 2


def test_a_superseded_fact_keeps_its_replacement_and_slot(store: Store, ns: NS) -> None:
    a = ns("a")
    moved = T0 + timedelta(days=40)
    new = fact(a, "Dana", "relocated to", "Edinburgh", valid_at=moved)
    old = fact(a, "Dana", "lives in", "Leeds", valid_at=T0, invalid_at=moved)
    old = old.model_copy(update={"superseded_by": new.id, "slot": "residence", "expired_at": T0})
    new = new.model_copy(update={"slot": "residence"})
    entities = [ent(a, n) for n in ("Dana", "Leeds", "Edinburgh")]
    store.write(WriteBatch(a, entities=entities, facts=[old, new]))
    got = store.get_facts(a, [old.id, new.id])
    assert got[old.id] == old and got[new.id] == new
    assert got[old.id].superseded_by == new.id and got[new.id].superseded_by is None
    dana = entity_id(a, "Dana")
    then = {f.id for f in store.facts_between(a, [dana], as_of=T0 + timedelta(days=1))}
    assert then == {old.id}  # superseded, still there as of its time


def test_passage_retry_updates_status_error_and_metadata(store: Store, ns: NS) -> None:
    a = ns("a")
    failed = passage(a, "Hard text.", "doc", status="failed", error="timeout", metadata={"n": 1})
    ok = passage(a, "Easy text.", "doc")
    store.write(WriteBatch(a, passages=[failed, ok]))
    assert store.existing_passages(a, [failed.id, ok.id]) == {failed.id: "failed", ok.id: "ok"}
    assert [p.id for p in store.failed_passages(a)] == [failed.id]
    assert store.stats(a).failed_passages == 1

    retried = failed.model_copy(update={"status": "ok", "error": None, "metadata": {"n": 2}})
    store.write(WriteBatch(a, passages=[retried]))
    got = store.get_passages(a, [failed.id])[failed.id]
    assert (got.status, got.error, got.metadata, got.text) == ("ok", None, {"n": 2}, "Hard text.")
    assert store.failed_passages(a) == []
    assert store.stats(a).failed_passages == 0
    assert store.stats(a).passages == 2


def test_edges_are_unique_and_keep_the_max_weight(store: Store, ns: NS) -> None:
    a = ns("a")
    x, y = ent(a, "Paris"), ent(a, "Paris France")
    store.write(WriteBatch(a, entities=[x, y]))
    # SYNONYM has no direction: written from either end it is one edge, stored src < dst.
    for w, (s, d) in zip((0.8, 0.9, 0.5), [(x.id, y.id), (y.id, x.id), (x.id, y.id)], strict=True):
        store.write(
            WriteBatch(a, edges=[Edge(type="SYNONYM", src=s, dst=d, weight=w, namespace=a)])
        )
    edges = store.edges_of(a, [x.id])
    lo, hi = sorted((x.id, y.id))
    assert [(e.type, e.src, e.dst, e.weight) for e in edges] == [("SYNONYM", lo, hi, 0.9)]
    assert graph_weights(store.graph(a)) == {frozenset((x.id, y.id)): 0.9}
    assert store.stats(a).edges == 1


# ------------------------------------------------------------------------------ namespaces


def test_no_read_crosses_namespaces(store: Store, ns: NS) -> None:
    a, b = ns("a"), ns("b")
    ba, bb = doc_batch(a, DOCS), doc_batch(b, DOCS[:1])
    store.write(ba)
    store.write(bb)
    store.write(WriteBatch(a, extractions={"k-" + a: "{}"}))
    a_ids = [n.id for n in ba.nodes()]
    assert store.get_passages(b, a_ids) == {}
    assert store.get_entities(b, a_ids) == {}
    assert store.get_facts(b, a_ids) == {}
    assert store.existing_passages(b, a_ids) == {}
    assert store.facts_between(b, a_ids) == []
    assert store.edges_of(b, a_ids) == []
    assert store.facts_of_passages(b, a_ids) == {}
    assert store.stats(b).passages == 1 and store.stats(a).passages == 3
    b_nodes = {n.id for n in bb.nodes()}
    for kind in ("passage", "entity", "fact"):
        (hits,) = store.vector_search(b, kind, vec("Alice works at Acme")[None, :], 50)
        assert hits and {i for i, _ in hits} <= b_nodes
    view = store.graph(b)
    assert {view.node_id(i) for i in range(view.num_nodes)}.isdisjoint(a_ids)
    assert set(store.namespaces()) >= {a, b}
    # A delete in one namespace leaves the other alone.
    assert store.delete_source(b, "doc2") == DeleteReport()
    store.delete_source(b, "doc1")
    assert store.stats(a).passages == 3


def test_delete_namespace(store: Store, ns: NS) -> None:
    a, b = ns("a"), ns("b")
    store.write(doc_batch(a, DOCS))
    store.write(doc_batch(b, DOCS))
    store.vector_search(a, "entity", vec("x")[None, :], 3)
    store.graph(a)
    report = store.delete_namespace(a)
    assert report == DeleteReport(passages=3, entities=7, facts=4)
    assert store.stats(a).model_dump(exclude={"namespace"}) == dict.fromkeys(
        (
            "passages",
            "entities",
            "facts",
            "events",
            "hyperedges",
            "episodes",
            "edges",
            "failed_passages",
        ),
        0,
    )
    assert store.graph(a).num_nodes == 0
    assert store.vector_search(a, "entity", vec("x")[None, :], 3) == [[]]
    assert a not in store.namespaces() and b in store.namespaces()
    assert store.stats(b).passages == 3
    # The content-keyed caches outlive the namespace.
    key = text_hash("Alice")
    assert key in store.cached_vectors(MODEL, [key])


# ------------------------------------------------------------------------------ delete_source


def test_delete_source_keeps_what_other_passages_still_support(store: Store, ns: NS) -> None:
    w = build_world(store, ns("a"))
    a, batch = w.ns, w.batch
    store.graph(a)  # build the projection, then delete
    store.vector_search(a, "entity", vec("Paris")[None, :], 3)  # load the index, then delete
    before = store.stats(a)

    report = store.delete_source(a, "doc1")

    assert report == DeleteReport(passages=1, facts=1, entities=1, events=1)
    p1 = batch.passages[0].id
    paris, acme, alice = (entity_id(a, n) for n in ("Paris", "Acme", "Alice"))
    assert store.get_passages(a, [p1]) == {}
    assert store.existing_passages(a, [p1]) == {}
    assert set(store.get_entities(a, [e.id for e in batch.entities])) == {
        e.id for e in batch.entities
    } - {paris}
    gone_fact = fact_id(a, "Acme", "located in", "Paris")
    shared = fact_id(a, "Alice", "works at", "Acme")
    assert set(store.get_facts(a, [gone_fact, shared])) == {shared}
    assert store.get_events(a, [w.ev.id]) == {}
    assert set(store.get_hyperedges(a, [w.he.id])) == {w.he.id}
    # No edge touches a removed node.
    for removed in (p1, paris, gone_fact, w.ev.id):
        assert store.edges_of(a, [removed]) == []
    assert {e.type for e in store.edges_of(a, [acme])} == {"MENTIONS", "CONNECTS"}
    after = store.stats(a)
    assert (before.passages - after.passages, before.facts - after.facts) == (1, 1)
    # The graph and the vectors no longer know the removed nodes.
    facts, edges = stored(store, a, batch)
    assert graph_weights(store.graph(a)) == expected_weights(facts, edges)
    assert store.graph(a).index_of(paris) is None
    hits = {i for i, _ in store.vector_search(a, "entity", vec("Paris")[None, :], 50)[0]}
    assert paris not in hits and alice in hits

    # Deleting the rest of what stated Alice's fact removes it and her.
    report2 = store.delete_source(a, "doc2")
    assert report2.passages == 1 and report2.hyperedges == 1
    assert store.get_facts(a, [shared]) == {}
    assert store.get_entities(a, [alice, entity_id(a, "Eve"), entity_id(a, "Dave")]) == {}
    assert store.delete_source(a, "doc2") == DeleteReport()
    remaining = store.stats(a)
    assert (remaining.passages, remaining.facts, remaining.entities) == (1, 1, 2)


def test_delete_source_of_episodes(store: Store, ns: NS) -> None:
    a = ns("a")
    eps = [
        Episode(
            id=episode_id(a, "s", (T0 + timedelta(minutes=i)).isoformat(), "u", f"turn {i}"),
            text=f"turn {i}",
            time=T0 + timedelta(minutes=i),
            speaker="u",
            session="s",
            source=src,
            namespace=a,
        )
        for i, src in enumerate(["chat1", "chat1", "chat2"])
    ]
    bob, pizza, tea = ent(a, "Bob"), ent(a, "Pizza"), ent(a, "Tea")
    likes_pizza, likes_tea = fact(a, "Bob", "likes", "Pizza"), fact(a, "Bob", "likes", "Tea")
    batch = WriteBatch(a, entities=[bob, pizza, tea], facts=[likes_pizza, likes_tea], episodes=eps)
    batch.edges = [
        Edge(type="NEXT", src=eps[0].id, dst=eps[1].id, namespace=a),
        Edge(type="NEXT", src=eps[1].id, dst=eps[2].id, namespace=a),
        Edge(type="EVIDENCE", src=eps[0].id, dst=likes_pizza.id, namespace=a),
        Edge(type="EVIDENCE", src=eps[0].id, dst=pizza.id, namespace=a),
        Edge(type="EVIDENCE", src=eps[0].id, dst=bob.id, namespace=a),
        Edge(type="EVIDENCE", src=eps[2].id, dst=likes_tea.id, namespace=a),
        Edge(type="EVIDENCE", src=eps[2].id, dst=tea.id, namespace=a),
        Edge(type="EVIDENCE", src=eps[2].id, dst=bob.id, namespace=a),
    ]
    store.write(with_vectors(batch))
    assert store.delete_source(a, "chat1") == DeleteReport(episodes=2, facts=1, entities=1)
    assert set(store.get_episodes(a, [e.id for e in eps])) == {eps[2].id}
    assert set(store.get_entities(a, [bob.id, pizza.id, tea.id])) == {bob.id, tea.id}
    assert store.edges_of(a, [eps[2].id], ["NEXT"]) == []
    facts, edges = stored(store, a, batch)
    assert graph_weights(store.graph(a)) == expected_weights(facts, edges)


# ------------------------------------------------------------------------------ reads


def test_facts_of_passages(store: Store, ns: NS) -> None:
    w = build_world(store, ns("a"))
    a = w.ns
    p1, p2, p3 = (p.id for p in w.batch.passages)
    lonely = passage(a, "Nothing to see.", "doc4")
    store.write(WriteBatch(a, passages=[lonely]))
    got = store.facts_of_passages(a, [p1, p2, lonely.id, "p:missing"])
    assert set(got) == {p1, p2}
    assert set(got[p1]) == {
        fact_id(a, "Alice", "works at", "Acme"),
        fact_id(a, "Acme", "located in", "Paris"),
    }
    # p2 also STATES a hyperedge: only facts are listed.
    assert set(got[p2]) == {
        fact_id(a, "Alice", "works at", "Acme"),
        fact_id(a, "Bob", "knows", "Carol"),
        fact_id(a, "Bob", "manages", "Dave"),
    }
    assert set(store.facts_of_passages(a, [p3])[p3]) == {
        fact_id(a, "Paris France", "capital of", "France")
    }


def test_facts_between_with_as_of(store: Store, ns: NS) -> None:
    a = ns("a")
    then, later = T0, T0 + timedelta(days=365)
    old_job = fact(a, "Alice", "works at", "Acme", valid_at=then, invalid_at=later)
    new_job = fact(a, "Alice", "works at", "Globex", valid_at=later)
    timeless = fact(a, "Bob", "knows", "Alice")
    unrelated = fact(a, "Carol", "knows", "Dan")
    entities = [ent(a, n) for n in ("Alice", "Acme", "Globex", "Bob", "Carol", "Dan")]
    store.write(WriteBatch(a, entities=entities, facts=[old_job, new_job, timeless, unrelated]))
    alice = entity_id(a, "Alice")

    def ids(as_of: datetime | None) -> set[str]:
        return {f.id for f in store.facts_between(a, [alice], as_of=as_of)}

    assert ids(None) == {old_job.id, new_job.id, timeless.id}
    assert ids(then + timedelta(days=1)) == {old_job.id, timeless.id}
    assert ids(later) == {new_job.id, timeless.id}  # invalid_at is exclusive, valid_at inclusive
    assert ids(then - timedelta(days=1)) == {timeless.id}
    assert ids(datetime(2024, 6, 1)) == {old_job.id, timeless.id}  # naive means UTC
    assert {f.id for f in store.facts_between(a, [entity_id(a, "Dan")])} == {unrelated.id}
    assert store.facts_between(a, []) == []


def test_edges_of_either_end_and_types(store: Store, ns: NS) -> None:
    w = build_world(store, ns("a"))
    a = w.ns
    acme = entity_id(a, "Acme")
    all_edges = store.edges_of(a, [acme])
    assert all(acme in (e.src, e.dst) for e in all_edges)
    expected = {(e.type, e.src, e.dst) for e in w.batch.edges if acme in (e.src, e.dst)}
    assert edge_keys(all_edges) == expected
    only = store.edges_of(a, [acme], ["INVOLVES", "CONNECTS"])
    assert edge_keys(only) == {k for k in expected if k[0] in ("INVOLVES", "CONNECTS")}
    syn = store.edges_of(a, [entity_id(a, "Paris France")], ["SYNONYM"])
    assert [(e.weight, e.namespace) for e in syn] == [(0.85, a)]
    assert store.edges_of(a, ["e:missing"]) == []


def test_vector_search_orders_by_cosine(store: Store, ns: NS) -> None:
    a = ns("a")
    names = ["North", "North-east", "East", "South"]
    rows = np.zeros((4, DIM), dtype=np.float32)
    rows[0, 0] = 1.0
    rows[1, :2] = [0.8, 0.6]
    rows[2, 1] = 2.0  # not normalized: cosine must not care
    rows[3, 0] = -1.0
    entities = [ent(a, n) for n in names]
    batch = WriteBatch(a, entities=entities, embedding_model=MODEL)
    batch.vectors = {embed_key(e): r for e, r in zip(entities, rows, strict=True)}
    p = passage(a, "North is up.", None)
    batch.passages.append(p)
    batch.vectors[embed_key(p)] = rows[0]
    store.write(batch)

    q = np.zeros((2, DIM), dtype=np.float32)
    q[0, 0] = 3.0
    q[1, 1] = 1.0
    res = store.vector_search(a, "entity", q, 3)
    assert [i for i, _ in res[0]] == [entities[0].id, entities[1].id, entities[2].id]
    assert [round(s, 4) for _, s in res[0]] == [1.0, 0.8, 0.0]
    assert [i for i, _ in res[1]][:2] == [entities[2].id, entities[1].id]
    assert round(res[1][0][1], 4) == 1.0
    everything = store.vector_search(a, "entity", q[:1], 10)[0]
    assert len(everything) == 4 and everything[-1] == (
        entities[3].id,
        pytest.approx(-1.0, abs=1e-5),
    )
    assert store.vector_search(a, "passage", q[:1], 10) == [[(p.id, pytest.approx(1.0, abs=1e-5))]]
    assert store.vector_search(a, "fact", q[:1], 10) == [[]]
    assert store.vector_search(ns("empty"), "entity", q, 3) == [[], []]

    # Written later: found without reopening.
    west = ent(a, "West")
    later = WriteBatch(a, entities=[west], embedding_model=MODEL)
    later.vectors = {embed_key(west): -rows[2]}
    store.write(later)
    assert store.vector_search(a, "entity", -q[1:], 1)[0][0][0] == west.id


def test_cached_vectors_and_extractions(store: Store, ns: NS) -> None:
    a = ns("a")
    k1, k2 = text_hash("one " + a), text_hash("two " + a)
    v1, v2 = vec("one"), vec("two")
    store.write(
        WriteBatch(
            a, embedding_model=MODEL, vectors={k1: v1, k2: v2}, extractions={"x:" + a: '{"a": 1}'}
        )
    )
    got = store.cached_vectors(MODEL, [k1, k2, "missing"])
    assert set(got) == {k1, k2}
    assert np.allclose(got[k1], v1) and got[k1].dtype == np.float32
    assert store.cached_vectors("other-model", [k1]) == {}
    assert store.cached_extractions(["x:" + a, "y:" + a]) == {"x:" + a: '{"a": 1}'}
    store.write(WriteBatch(a, extractions={"x:" + a: '{"a": 2}'}))
    assert store.cached_extractions(["x:" + a]) == {"x:" + a: '{"a": 2}'}
    assert store.cached_vectors(MODEL, []) == {}


# ------------------------------------------------------------------------------ graph


def test_graph_is_ppr_edges_of_what_was_written_and_follows_writes(store: Store, ns: NS) -> None:
    w = build_world(store, ns("a"))
    a, batch = w.ns, w.batch
    view = store.graph(a)
    facts, edges = stored(store, a, batch)
    assert graph_weights(view) == expected_weights(facts, edges)
    for node in [*batch.passages, *batch.entities, w.ev, w.he]:
        assert view.index_of(node.id) is not None, node.id
    assert store.graph(a) is view  # nothing written: the same view, not a rebuild

    # A later write, part of it new and part of it already stored.
    more = doc_batch(a, [("doc4", "Bob works at Acme.", [("Bob", "works at", "Acme")]), DOCS[0]])
    store.write(more)
    view2 = store.graph(a)
    facts2, edges2 = stored(store, a, batch)
    more_facts, more_edges = stored(store, a, more)
    all_facts = {f.id: f for f in [*facts2, *more_facts]}
    all_edges = {(e.type, e.src, e.dst): e for e in [*edges2, *more_edges]}
    assert graph_weights(view2) == expected_weights(all_facts.values(), all_edges.values())
    assert view2.index_of(more.passages[0].id) is not None


def test_adjacent_matches_the_graph(store: Store, ns: NS) -> None:
    w = build_world(store, ns("a"))
    a = w.ns
    acme, paris = entity_id(a, "Acme"), entity_id(a, "Paris")
    adj = store.adjacent(a, [acme, paris, "e:missing"])
    weights = graph_weights(store.graph(a))
    for node in (acme, paris):
        got = {n: round(x, 6) for n, x in adj[node]}
        want = {next(iter(k - {node})): v for k, v in weights.items() if node in k and len(k) == 2}
        assert got == want and got
    assert adj["e:missing"] == []
    # Paris: located in (Acme), a synonym, a MENTIONS from p1 and an INVOLVES from the event.
    assert dict(adj[paris])[entity_id(a, "Paris France")] == pytest.approx(0.85)


def test_stats_counts(store: Store, ns: NS) -> None:
    w = build_world(store, ns("a"))
    s = store.stats(w.ns)
    assert (s.passages, s.entities, s.facts, s.events, s.hyperedges, s.episodes) == (
        3,
        9,
        5,
        1,
        1,
        0,
    )
    assert s.edges == len(edge_keys(w.batch.edges))
    assert s.namespace == w.ns


# ------------------------------------------------------------------------------ list_ids


def _all_pages(store: Store, ns: str, kind: NodeKind, limit: int) -> list[list[str]]:
    """Every page of ``list_ids``, each call continuing after the last id of the one before."""
    pages, after = [], None
    while True:
        page = store.list_ids(ns, kind, after=after, limit=limit)
        assert len(page) <= limit
        # Strictly ascending, and strictly after `after` (else this loop would never end).
        seq = page if after is None else [after, *page]
        assert all(x < y for x, y in pairwise(seq)), page
        pages.append(page)
        if len(page) < limit:
            return pages
        after = page[-1]


def test_list_ids_pages_cover_every_id_once_in_order(store: Store, ns: NS) -> None:
    w = build_world(store, ns("a"))
    a, times = w.ns, [T0 + timedelta(minutes=i) for i in range(3)]
    extra = WriteBatch(
        a,
        episodes=[
            Episode(
                id=episode_id(a, "s", t.isoformat(), None, str(t)), text=str(t), time=t, namespace=a
            )
            for t in times
        ],
    )
    # An edge to a fact never written: its dangling end (a stub in the Cypher store) is no node.
    extra.edges.append(Edge(type="STATES", src=w.batch.passages[0].id, dst="f:never", namespace=a))
    store.write(with_vectors(extra))
    stats = store.stats(a).model_dump()
    written = [*w.batch.nodes(), *extra.nodes()]
    for kind in NODE_KINDS:
        want = sorted({n.id for n in written if kind_of(n) == kind})
        assert len(want) == stats[{"entity": "entities"}.get(kind, kind + "s")] > 0, kind
        for limit in (1, 2, 3, len(want), 1000):
            pages = _all_pages(store, a, kind, limit)
            got = [i for page in pages for i in page]
            assert got == want, (kind, limit)  # ascending, each id exactly once
            assert all(len(page) == limit for page in pages[:-1])
        # `after` need not be an id: the page starts at the first id above it.
        mid = want[len(want) // 2]
        assert store.list_ids(a, kind, after=mid[:-1]) == [i for i in want if i > mid[:-1]]
        assert store.list_ids(a, kind, after=want[-1]) == []
        assert store.list_ids(a, kind, after=want[0], limit=1) == want[1:2]
    # Facts are listed once each, as facts, whatever else the store keeps per fact.
    facts = store.list_ids(a, "fact")
    assert len(facts) == stats["facts"] == len(store.get_facts(a, facts)) == 5
    assert "f:never" not in facts


def test_list_ids_lists_a_fact_once_after_it_changes(store: Store, ns: NS) -> None:
    a = ns("a")
    f = fact(a, "Alice", "works at", "Acme")
    store.write(WriteBatch(a, entities=[ent(a, n) for n in ("Alice", "Acme", "Bob")], facts=[f]))
    # The same fact, re-pointed at another object and then invalidated.
    moved = f.model_copy(update={"object": entity_id(a, "Bob")})
    store.write(WriteBatch(a, facts=[moved]))
    store.write(WriteBatch(a, facts=[moved.model_copy(update={"invalid_at": T0})]))
    assert store.list_ids(a, "fact") == [f.id]
    assert len(store.list_ids(a, "entity")) == 3


def test_list_ids_never_crosses_namespaces(store: Store, ns: NS) -> None:
    a, b, empty = ns("a"), ns("b"), ns("empty")
    # The same ids in both namespaces, and ids of b that sort between a's.
    for n, docs, names in ((a, DOCS, ["m", "x"]), (b, DOCS[:1], ["m", "n", "y"])):
        batch = doc_batch(n, docs)
        batch.entities += [Entity(id=f"e:{x}", name=x, normalized=x, namespace=n) for x in names]
        store.write(batch)
    in_a, in_b = store.list_ids(a, "entity"), store.list_ids(b, "entity")
    assert {"e:m", "e:x"} <= set(in_a) and "e:n" not in in_a and "e:y" not in in_a
    assert {"e:m", "e:n", "e:y"} <= set(in_b) and "e:x" not in in_b
    assert len(in_a) == store.stats(a).entities and len(in_b) == store.stats(b).entities
    assert store.list_ids(a, "entity", after="e:m", limit=1) == ["e:x"]
    assert store.list_ids(b, "entity", after="e:m", limit=1) == ["e:n"]
    assert len(store.list_ids(a, "passage")) == 3 and len(store.list_ids(b, "passage")) == 1
    assert set(store.list_ids(a, "fact")).isdisjoint(store.list_ids(b, "fact"))
    for kind in NODE_KINDS:
        assert store.list_ids(empty, kind) == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "node"}, "kind"),
        ({"kind": "passages"}, "kind"),
        ({"kind": "Fact"}, "kind"),
        ({"limit": 0}, "limit"),
        ({"limit": -1}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": "10"}, "limit"),
        ({"limit": 2.0}, "limit"),
        ({"after": 5}, "after"),
    ],
)
def test_list_ids_refuses_bad_arguments(
    store: Store, ns: NS, kwargs: dict[str, object], field: str
) -> None:
    a = ns("a")
    store.write(doc_batch(a, DOCS[:1]))
    args: dict[str, Any] = {"kind": "passage", "after": None, "limit": 10, **kwargs}
    with pytest.raises(InputError, match=field) as info:
        store.list_ids(a, args.pop("kind"), **args)
    assert info.value.field == field
    assert len(store.list_ids(a, "entity", limit=10_000)) == 3  # the bounds themselves are fine


# ------------------------------------------------------------------------------ failure


def test_a_batch_that_fails_part_way_leaves_nothing(store: Store, ns: NS, backend: object) -> None:
    a = ns("a")
    store.write(doc_batch(a, DOCS[:1]))
    store.vector_search(a, "entity", vec("x")[None, :], 5)
    before_stats, before_graph = store.stats(a), graph_weights(store.graph(a))
    before_hits = store.vector_search(a, "entity", vec("Bob")[None, :], 50)

    bad = doc_batch(a, DOCS[1:])
    # The last fact cannot be encoded (a lone surrogate): everything before it was accepted.
    broken = bad.facts[-1].model_copy(update={"text": "broken \ud800 text"})
    bad.facts[-1] = broken
    with pytest.raises((StoreError, InputError)):
        store.write(bad)

    fixed = doc_batch(a, DOCS[1:])
    if getattr(backend, "atomic", True):
        assert store.stats(a) == before_stats
        assert graph_weights(store.graph(a)) == before_graph
        assert store.vector_search(a, "entity", vec("Bob")[None, :], 50) == before_hits
        assert store.get_passages(a, [p.id for p in bad.passages]) == {}
        assert store.get_entities(a, [entity_id(a, "Bob")]) == {}
        assert store.cached_vectors(MODEL, [embed_key(bad.passages[0])]) == {}
    # Re-running the batch, fixed, gives the same store as a clean write.
    store.write(fixed)
    clean = ns("clean")
    store.write(doc_batch(clean, DOCS))
    s_a, s_clean = store.stats(a), store.stats(clean)
    assert s_a.model_dump(exclude={"namespace"}) == s_clean.model_dump(exclude={"namespace"})
    facts, edges = stored(store, a, doc_batch(a, DOCS))
    assert graph_weights(store.graph(a)) == expected_weights(facts, edges)
