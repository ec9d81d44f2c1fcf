"""Slots without a model: the rule steps, the question cues, caching, the link to the replacement."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from graphmem.embed.base import TextKind, Vectors, normalize_rows
from graphmem.ids import entity_id, episode_id
from graphmem.ingest.slots import SlotMatcher, load_seed, question_slots, rule_slot
from graphmem.ingest.temporal import TemporalHook, fixed_slot
from graphmem.models import Episode, Fact, IngestReport
from graphmem.retrieve.current import lead
from graphmem.store.base import WriteBatch
from graphmem.store.sqlite import SQLiteStore

from support.temporal import NS, day, say


def said(predicate: str, obj: str) -> Fact:
    return Fact(
        id=f"f:{predicate}:{obj}",
        subject="e:dana",
        predicate=predicate,
        object=f"e:{obj}",
        text=f"Dana {predicate} {obj}",
    )


def test_copula_values_fill_value_slots_and_others_do_not() -> None:
    assert rule_slot(said("is", "vegan")) == ("diet", "subject", "vegan")
    assert rule_slot(said("went", "vegetarian")) == ("diet", "subject", "vegetarian")
    assert rule_slot(said("switched to", "pescatarian diet")) == ("diet", "subject", "pescatarian")
    assert rule_slot(said("is", "a nurse")) == ("role", "subject", "nurse")
    assert rule_slot(said("is", "single")) == ("relationship_status", "subject", "single")
    assert rule_slot(said("is", "tired")) is None
    assert rule_slot(said("likes", "vegan food")) is None


def test_a_value_inside_the_relation_counts_only_before_a_time_word() -> None:
    assert rule_slot(said("is vegetarian for", "years")) == ("diet", "subject", "vegetarian")
    # "got married to" is a partner's relation (step 4), not the status "married"
    assert rule_slot(said("got married to", "Sam")) is None


def test_fixed_classes_and_favourites() -> None:
    assert rule_slot(said("lives in", "Leeds")) == ("residence", "subject", None)
    assert rule_slot(said("favourite colour is", "blue")) == ("favorite color", "subject", None)
    assert rule_slot(said("favorite color is", "green"))[:2] == ("favorite color", "subject")  # type: ignore[index]
    assert fixed_slot(said("relocated to", "York")) == ("residence", "subject", None)
    assert fixed_slot(said("took a job at", "Acme")) is None


def test_question_slots() -> None:
    assert question_slots("Where does Dana live now?") == {"residence"}
    assert question_slots("Where does Dana currently work?") == {"employer"}
    assert question_slots("What is Dana's job title these days?") == {"role"}
    assert question_slots("What diet does Dana follow now?") == {"diet"}
    assert question_slots("What did Dana think of the film?") == set()


class Counting:
    """A fake embedder: a fixed random vector per text; counts the texts it embeds."""

    name = "counting"
    dim = 16

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str], *, kind: TextKind = "passage") -> Vectors:
        self.seen.extend(texts)
        rows = [np.random.default_rng(zlib.crc32(t.encode())).normal(size=self.dim) for t in texts]
        return normalize_rows(np.array(rows, dtype=np.float32))


def test_relation_decisions_are_cached_and_seeded_ones_need_no_embedding() -> None:
    emb = Counting()
    m = SlotMatcher(emb, threshold=0.99)
    assert m.predicate_slot("took a job at") == "employer"  # seeded: no embedding at all
    assert emb.seen == []
    m.prime([said("zorbled", "x"), said("zorbled", "y"), said("visited", "Paris")])
    n = len(emb.seen)
    assert n == len(load_seed().exemplars) + 1  # exemplars once, then the one unseen relation
    assert m.predicate_slot("zorbled") is None  # a random vector is far from every exemplar
    m.prime([said("zorbled", "z")])
    assert len(emb.seen) == n


def test_an_ended_fact_names_the_fact_that_replaced_it() -> None:
    store = SQLiteStore(":memory:")
    say(store, day(0), "Dana", "lives in", "Leeds")
    assert say(store, day(30), "Dana", "moved to", "Edinburgh") == 1
    facts = {f.text: f for f in store.facts_between(NS, [entity_id(NS, "Dana")])}
    old, new = facts["Dana lives in Leeds"], facts["Dana moved to Edinburgh"]
    assert old.superseded_by == new.id and new.superseded_by is None
    assert old.slot == new.slot == "residence"
    # a fact stated between them (out of order) takes the link; the first now points to it
    say(store, day(10), "Dana", "relocated to", "York")
    facts = {f.text: f for f in store.facts_between(NS, [entity_id(NS, "Dana")])}
    york = facts["Dana relocated to York"]
    assert facts["Dana lives in Leeds"].superseded_by == york.id
    assert york.superseded_by == new.id and york.invalid_at == day(30)


def test_lead_moves_only_candidates_in_the_window() -> None:
    order = ["a", "b", "c", "d", "e"]
    assert lead(order, ["d", "zz", "b"], window=5) == ["d", "b", "a", "c", "e"]
    assert lead(order, ["e"], window=3) == order
    assert lead(order, [], window=5) == order


def turn(when: int, text: str, speaker: str = "Dana") -> Episode:
    t = day(when)
    return Episode(
        id=episode_id(NS, "s", t.isoformat(), speaker, text),
        namespace=NS,
        text=f"{speaker}: {text}",
        time=t,
        speaker=speaker,
    )


def test_first_person_statements_become_facts_that_end_each_other() -> None:
    store, hook = SQLiteStore(":memory:"), TemporalHook()
    for when, text, speaker in [
        (0, "I'm vegetarian.", "Dana"),
        (1, "I'm vegan, by the way.", "assistant"),  # a bot's words are no statement of Dana's
        (5, "I went vegan a few weeks ago.", "Dana"),
        (6, "I have a vegan friend and I was keto once.", "Dana"),
    ]:
        batch = WriteBatch(namespace=NS, episodes=[turn(when, text, speaker)])
        hook(store, Counting(), batch, IngestReport())
        store.write(batch)
    facts = {f.text: f for f in store.facts_between(NS, [entity_id(NS, "Dana")])}
    assert set(facts) == {"Dana is vegetarian", "Dana is vegan"}
    old, new = facts["Dana is vegetarian"], facts["Dana is vegan"]
    assert old.invalid_at == day(5) and old.superseded_by == new.id and old.slot == "diet"
    assert new.invalid_at is None and new.valid_at == day(5)
    assert store.facts_between(NS, [entity_id(NS, "assistant")]) == []
