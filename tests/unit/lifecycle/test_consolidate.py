"""Consolidation (issue 22): which entities merge on which evidence, ties merge nothing, repeated
facts fold with all their evidence, and every merge is recorded and undone by a restore."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from graphmem.ids import entity_id, fact_id, passage_id
from graphmem.lifecycle.consolidate import consolidate, entity_merges, fact_folds
from graphmem.lifecycle.forget import restore
from graphmem.lifecycle.visible import HIDDEN
from graphmem.models import Edge, Entity, Fact, Passage
from graphmem.names import fold
from graphmem.store.base import WriteBatch
from graphmem.store.sqlite import SQLiteStore

NS = "c"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def ent(name: str, *aliases: str) -> Entity:
    return Entity(
        id=entity_id(NS, name),
        namespace=NS,
        name=name,
        normalized=fold(name),
        aliases=list(aliases),
    )


def pairs(entities: list[Entity]) -> set[tuple[str, str]]:
    names = {e.id: e.name for e in entities}
    return {(names[m.id], names[m.into]) for m in entity_merges(entities)}


def test_each_kind_of_evidence_merges() -> None:
    found = pairs(
        [
            ent("Toronto"), ent("Toronto, Ontario"), ent("Ontario"),
            ent("UK"), ent("United Kingdom"),
            ent("Priya"), ent("Priya Natarajan", "Priya"),
            ent("Heron"), ent("Project Heron", "Heron"),
            ent("Platform"), ent("Platform team"),
            ent("Kite design review"), ent("Kite design reviews"),
            ent("Alex"), ent("Alex Novak"),
        ]
    )  # fmt: skip
    assert found == {
        ("Toronto", "Toronto, Ontario"),
        ("UK", "United Kingdom"),
        ("Priya", "Priya Natarajan"),
        ("Heron", "Project Heron"),
        ("Platform", "Platform team"),
        ("Kite design review", "Kite design reviews"),
        ("Alex", "Alex Novak"),
    }


def test_no_merge_without_a_unique_best_candidate() -> None:
    # two people share the short name; an alias of two nodes is no evidence for either
    assert (
        pairs([ent("Daniel"), ent("Daniel Reyes", "Daniel"), ent("Daniel Okoro", "Daniel")])
        == set()
    )
    assert (
        pairs([ent("Heron"), ent("Project Heron", "Heron"), ent("Heron Street", "Heron")]) == set()
    )
    # a list after a comma is no place; a common noun, an office, a heading in capitals
    assert pairs([ent("Florence"), ent("Florence, Grace")]) == set()
    assert pairs([ent("customer"), ent("Customer Success")]) == set()
    assert pairs([ent("Lisbon"), ent("Lisbon office")]) == set()
    assert pairs([ent("Numbers"), ent("NUMBERS Trial")]) == set()
    # a full name does not merge into a longer heading; the first name still finds the person
    assert pairs([ent("Sofia"), ent("Sofia Lindqvist", "Sofia"), ent("Sofia Lindqvist Role")]) == {
        ("Sofia", "Sofia Lindqvist")
    }  # fmt: skip


def fact(s: str, p: str, o: str, text: str, day: int) -> Fact:
    return Fact(
        id=fact_id(NS, s, p + str(day), o), namespace=NS, subject=entity_id(NS, s), predicate=p,
        object=entity_id(NS, o), text=text, created_at=T0 + timedelta(days=day),
    )  # fmt: skip


def test_repeated_facts_fold_into_the_oldest_with_every_statement() -> None:
    a = fact("Ada", "is in", "Lisbon", "Ada is in Lisbon", 0)
    b = fact("Ada", "was in", "Lisbon", "Ada was in Lisbon", 3)
    c = fact("Ada", "is in", "Lisbon", "Ada is in Lisbon", 5)
    other = fact("Ada", "is in", "Lisbon", "Ada is in Lisbon office", 1)  # says more: kept apart
    folds = fact_folds([c, other, b, a], {a.id: {"p:1"}, b.id: {"p:2", "ep:3"}, c.id: {"p:1"}})
    assert {(m.id, m.into) for m in folds} == {(b.id, a.id), (c.id, a.id)}
    assert folds[0].data == {"count": 3, "evidence": ["ep:3", "p:1", "p:2"]}


@pytest.fixture
def store() -> Iterator[SQLiteStore]:
    s = SQLiteStore(":memory:")
    people = [ent("Priya"), ent("Priya Natarajan", "Priya"), ent("UK"), ent("United Kingdom")]
    a = fact("Priya", "lives in", "UK", "Priya lives in UK", 0)
    b = fact("Priya", "lives in", "UK", "Priya lives in UK", 1)
    p = Passage(id=passage_id(NS, "x"), namespace=NS, text="x")
    edges = [Edge(type="STATES", src=p.id, dst=f.id, namespace=NS) for f in (a, b)]
    s.write(WriteBatch(NS, passages=[p], entities=people, facts=[a, b], edges=edges))
    yield s
    s.close()


def test_merges_are_recorded_hidden_and_undone(store: SQLiteStore) -> None:
    dry = consolidate(store, NS, dry_run=True)
    assert (dry.merged_entities, dry.folded_facts) == (2, 1)
    assert store.ids_in_state(NS, "merged") == []
    done = consolidate(store, NS)
    merged = sorted(m["id"] for m in done.merges)
    assert store.ids_in_state(NS, "merged") == merged and "merged" in HIDDEN
    priya, full = entity_id(NS, "Priya"), entity_id(NS, "Priya Natarajan")
    history = store.lifecycle_events(NS, [priya, full])
    [step] = history[priya]
    assert step.event == "merged" and step.data["into"] == full and step.actor == "consolidate"
    assert history[full][0].event == "absorbed" and history[full][0].data["from"] == priya
    kept = next(m["into"] for m in done.merges if m["kind"] == "fact")
    [absorbed] = store.lifecycle_events(NS, [kept])[kept]
    assert absorbed.data["count"] == 2 and len(absorbed.data["evidence"]) == 1
    assert consolidate(store, NS).merges == []  # merged nodes are not weighed again

    undone = restore(store, NS, [priya])
    assert undone.restored == 1
    assert [e.event for e in store.lifecycle_events(NS, [priya])[priya]] == ["merged", "unmerged"]
    assert store.lifecycle_states(NS, [priya]) == {priya: "active"}
    assert restore(store, NS, all_archived=True).restored == 0  # merges are undone by id only


def test_a_fact_that_holds_never_folds_into_an_ended_one() -> None:
    old = fact("Ada", "is", "vegetarian", "Ada is vegetarian", 0)
    old.expired_at, old.superseded_by = T0 + timedelta(days=2), "f:vegan"
    now = fact("Ada", "was", "vegetarian", "Ada was vegetarian", 4)  # alike, and still open
    assert fact_folds([old, now], {}) == []
    again = fact("Ada", "was", "vegetarian", "Ada was vegetarian", 1)
    again.expired_at = T0 + timedelta(days=2)
    assert [(m.id, m.into) for m in fact_folds([old, now, again], {})] == [(again.id, old.id)]


def test_a_superseded_fact_stays_superseded_when_it_absorbs_a_repeat() -> None:
    s = SQLiteStore(":memory:")
    try:
        a = fact("Ada", "is in", "Lisbon", "Ada is in Lisbon", 0)
        b = fact("Ada", "was in", "Lisbon", "Ada was in Lisbon", 1)
        for f in (a, b):  # both ended by a move, as ingest ends them (no recorded state)
            f.expired_at = T0 + timedelta(days=5)
        s.write(WriteBatch(NS, entities=[ent("Ada"), ent("Lisbon")], facts=[a, b]))
        done = consolidate(s, NS, entities=False)
        assert [(m["id"], m["into"]) for m in done.merges] == [(b.id, a.id)]
        [absorbed] = s.lifecycle_events(NS, [a.id])[a.id]
        assert absorbed.event == "absorbed" and absorbed.state == "superseded"
        assert s.lifecycle_states(NS, [a.id, b.id]) == {a.id: "superseded", b.id: "merged"}
    finally:
        s.close()
