"""Facts that change (graphmem.ingest.temporal): the functional rule, versions, as_of views."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphmem.ids import entity_id, fact_id
from graphmem.ingest.temporal import apply_functional_rule
from graphmem.models import Fact
from graphmem.retrieve.asof import graph_as_of
from graphmem.retrieve.ppr import personalized_pagerank
from graphmem.store.base import WriteBatch
from graphmem.store.sqlite import SQLiteStore
from graphmem.validity import current_answer, fact_class, predicate_class, valid_at

from support.temporal import NS, day, say


def answers(store: SQLiteStore, subject: str, when: datetime | None = None) -> list[str]:
    """Objects of ``subject``'s functional facts valid at ``when`` (current ones if None)."""
    eid = entity_id(NS, subject)
    facts = store.facts_between(NS, [eid], as_of=when)
    if when is None:
        facts = [f for f in facts if f.invalid_at is None and f.expired_at is None]
    names = store.get_entities(NS, [f.object for f in facts if f.subject == eid])
    return sorted(names[f.object].name for f in facts if f.subject == eid and f.object in names)


@pytest.fixture
def store() -> SQLiteStore:
    return SQLiteStore(":memory:")


def test_predicate_classes() -> None:
    assert predicate_class("lives in") == ("residence", "subject")
    assert predicate_class("Moved  to") == ("residence", "subject")
    assert predicate_class("works for") == predicate_class("worked at") == ("employer", "subject")
    assert predicate_class("was acquired by") == ("owner", "subject")
    assert predicate_class("is the CEO of") == ("ceo", "object")
    assert predicate_class("likes") is None
    role = Fact(id="f:x", subject="e:a", predicate="is", object="e:b", text="Maria is CEO of Acme")
    assert fact_class(role) == ("role", "object")
    plain = Fact(id="f:y", subject="e:a", predicate="is", object="e:c", text="Maria is a teacher")
    assert fact_class(plain) is None


def test_newer_fact_ends_older_one_without_deleting_it(store: SQLiteStore) -> None:
    say(store, day(0), "Ada", "lives in", "Lisbon")
    assert say(store, day(10), "Ada", "moved to", "Porto") == 1
    facts = {f.text: f for f in store.facts_between(NS, [entity_id(NS, "Ada")])}
    old, new = facts["Ada lives in Lisbon"], facts["Ada moved to Porto"]
    assert old.invalid_at == day(10) and old.expired_at is not None
    assert new.valid_at == day(10) and new.invalid_at is None and new.expired_at is None
    assert answers(store, "Ada") == ["Porto"]
    assert answers(store, "Ada", day(5)) == ["Lisbon"]
    assert answers(store, "Ada", day(-1)) == []


def test_out_of_order_fact_is_stored_already_ended(store: SQLiteStore) -> None:
    say(store, day(10), "Ben", "works at", "Globex")
    assert say(store, day(0), "Ben", "works at", "Acme") == 1
    assert answers(store, "Ben") == ["Globex"]
    assert answers(store, "Ben", day(3)) == ["Acme"]
    acme = next(f for f in store.facts_between(NS, [entity_id(NS, "Ben")]) if "Acme" in f.text)
    assert acme.invalid_at == day(10)


def test_restating_keeps_earliest_time_and_changes_nothing_else(store: SQLiteStore) -> None:
    say(store, day(5), "Cy", "lives in", "Oslo")
    assert say(store, day(8), "Cy", "lives in", "Oslo") == 0
    assert say(store, day(2), "Cy", "lives in", "Oslo") == 0
    [fact] = store.facts_between(NS, [entity_id(NS, "Cy")])
    assert fact.valid_at == day(2) and fact.invalid_at is None


def test_moving_back_creates_a_new_version(store: SQLiteStore) -> None:
    say(store, day(0), "Di", "lives in", "Rome")
    say(store, day(10), "Di", "lives in", "Madrid")
    say(store, day(20), "Di", "lives in", "Rome")
    rome = [f for f in store.facts_between(NS, [entity_id(NS, "Di")]) if "Rome" in f.text]
    assert len(rome) == 2 and len({f.id for f in rome}) == 2
    for t, want in [(1, "Rome"), (15, "Madrid"), (25, "Rome")]:
        assert answers(store, "Di", day(t)) == [want]
    assert answers(store, "Di") == ["Rome"]


def test_untimed_and_non_functional_facts_are_never_ended(store: SQLiteStore) -> None:
    say(store, day(0), "Ed", "likes", "jazz")
    say(store, day(1), "Ed", "likes", "opera")
    assert answers(store, "Ed") == ["jazz", "opera"]
    s, o1, o2 = entity_id(NS, "Fay"), entity_id(NS, "Kyiv"), entity_id(NS, "Lviv")
    untimed = [
        Fact(
            id=fact_id(NS, "Fay", "lives in", c),
            namespace=NS,
            subject=s,
            predicate="lives in",
            object=o,
            text=f"Fay lives in {c}",
        )
        for c, o in (("Kyiv", o1), ("Lviv", o2))
    ]
    batch = WriteBatch(namespace=NS, facts=untimed)
    assert apply_functional_rule(store, batch) == 0
    assert all(f.invalid_at is None for f in batch.facts)


def test_inverse_functional_role(store: SQLiteStore) -> None:
    say(store, day(0), "Maria", "is the CEO of", "Northwind")
    say(store, day(30), "Tom", "became the CEO of", "Northwind")
    north = entity_id(NS, "Northwind")
    now = [f for f in store.facts_between(NS, [north]) if f.invalid_at is None]
    assert [f.text for f in now] == ["Tom became the CEO of Northwind"]
    then = store.facts_between(NS, [north], as_of=day(10))
    assert [f.text for f in then] == ["Maria is the CEO of Northwind"]
    assert current_answer(store.facts_between(NS, [north])).text.startswith("Tom")  # type: ignore[union-attr]


def test_graph_as_of_walks_the_world_of_then(store: SQLiteStore) -> None:
    say(store, day(0), "Gus", "works at", "Acme")
    say(store, day(10), "Gus", "works at", "Hooli")
    graph = store.graph(NS)
    gus, acme, hooli = (graph.index_of(entity_id(NS, n)) for n in ("Gus", "Acme", "Hooli"))
    assert gus is not None and acme is not None and hooli is not None
    now = personalized_pagerank(graph, {gus: 1.0})
    assert now.get(hooli, 0) > 0 and now.get(acme, 0) == 0
    then = graph_as_of(store, NS, graph, day(5))
    past = personalized_pagerank(then, {gus: 1.0})
    assert past.get(acme, 0) > 0 and past.get(hooli, 0) == 0
    before = graph_as_of(store, NS, graph, day(-5))
    assert personalized_pagerank(before, {gus: 1.0}).get(acme, 0) == 0


def test_valid_at_bounds() -> None:
    f = Fact(
        id="f:1",
        subject="e:a",
        predicate="p",
        object="e:b",
        text="t",
        valid_at=day(1),
        invalid_at=day(3),
    )
    assert [valid_at(f, day(n)) for n in range(5)] == [False, True, True, False, False]
    naive = datetime(2020, 1, 2)
    assert valid_at(f, naive)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.sampled_from(["Lisbon", "Porto", "Faro"]), min_size=1, max_size=6),
    st.randoms(use_true_random=False),
)
def test_any_arrival_order_gives_the_timeline(cities: list[str], rnd: object) -> None:
    """Whatever order statements arrive in, as_of answers follow their times."""
    store = SQLiteStore(":memory:")
    timeline = [(day(10 * i), c) for i, c in enumerate(cities)]
    arrival = list(timeline)
    rnd.shuffle(arrival)  # type: ignore[attr-defined]
    for when, city in arrival:
        say(store, when, "Ivy", "lives in", city)
    for i, (when, city) in enumerate(timeline):
        for probe in (when, when + timedelta(days=5)):
            assert answers(store, "Ivy", probe) == [city], (arrival, i)
    assert answers(store, "Ivy", day(-1)) == []
    assert answers(store, "Ivy") == [timeline[-1][1]]
