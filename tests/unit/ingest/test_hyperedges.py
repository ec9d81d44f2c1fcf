"""HGMem hyperedges (ingest.hyperedges, retrieve.hyperedges): building units, merging, PPR, provenance."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from graphmem.ids import entity_id, passage_id
from graphmem.ingest.hyperedges import (
    HyperSettings,
    add_units,
    candidate_units,
    jaccard,
    note_unit,
    sentences,
)
from graphmem.models import Edge, Entity, Event, Hyperedge, Passage
from graphmem.retrieve.hyperedges import minmax_fuse
from graphmem.retrieve.ppr import personalized_pagerank
from graphmem.store.base import WriteBatch, embed_key
from graphmem.store.sqlite import SQLiteStore

NS = "h"
MODEL = "test-vectors"


class NoEmbedder:
    """Every vector these tests need is given; embedding anything is a test failure."""

    name, dim = MODEL, 3

    def embed(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        raise AssertionError(f"unexpected embedding of {list(texts)}")


def ent(name: str) -> Entity:
    return Entity(id=entity_id(NS, name), namespace=NS, name=name, normalized=name.lower())


def unit(desc: str, members: list[str], vec: list[float], batch: WriteBatch) -> Hyperedge:
    h = Hyperedge(
        id=f"h:{desc}",
        namespace=NS,
        description=desc,
        kind="sentence",
        members=[entity_id(NS, m) for m in members],
    )
    batch.vectors[embed_key(h)] = np.array(vec, dtype=np.float32)
    batch.embedding_model = MODEL
    return h


def passage_batch(text: str, names: list[str]) -> WriteBatch:
    p = Passage(id=passage_id(NS, text), namespace=NS, text=text)
    batch = WriteBatch(namespace=NS, passages=[p], entities=[ent(n) for n in names])
    batch.edges = [
        Edge(type="MENTIONS", src=p.id, dst=entity_id(NS, n), namespace=NS) for n in names
    ]
    return batch


def test_sentences_and_jaccard() -> None:
    assert sentences("Ada met Bob in Paris. Then Cy came!\nDone") == [
        "Ada met Bob in Paris.",
        "Then Cy came!",
        "Done",
    ]
    assert sentences("Dr. no split 3.5 here") == ["Dr. no split 3.5 here"]
    assert jaccard({"a"}, {"a"}) == 1.0 and jaccard(set(), set()) == 0.0


def test_sentence_units_need_three_named_entities() -> None:
    text = "Ada Lovelace met Charles Babbage in London. Ada Lovelace wrote notes."
    batch = passage_batch(text, ["Ada Lovelace", "Charles Babbage", "London", "notes"])
    units = candidate_units(batch, HyperSettings())
    assert [(u.description, src) for u, src in units] == [
        ("Ada Lovelace met Charles Babbage in London.", batch.passages[0].id)
    ]
    assert units[0][0].members == [
        entity_id(NS, n) for n in ("Ada Lovelace", "Charles Babbage", "London")
    ]
    assert candidate_units(batch, HyperSettings(min_members=4)) == []


def test_event_units_join_participants() -> None:
    batch = passage_batch("x", ["Ada", "Bob"])
    ev = Event(
        id="v:1",
        namespace=NS,
        description="Ada and Bob met",
        participants=[entity_id(NS, "Ada"), entity_id(NS, "Bob")],
    )
    batch.events = [ev]
    batch.edges.append(Edge(type="STATES", src=batch.passages[0].id, dst=ev.id, namespace=NS))
    units = candidate_units(batch, HyperSettings(from_sentences=False))
    assert [(u.kind, u.description, len(u.members)) for u, _ in units] == [
        ("event", "Ada and Bob met", 2)
    ]


@pytest.fixture
def store() -> SQLiteStore:
    s = SQLiteStore(":memory:")
    first = WriteBatch(namespace=NS, entities=[ent(n) for n in "ABCD"])
    old = unit("A, B and C met", ["A", "B", "C"], [1, 0, 0], first)
    add_units(s, NoEmbedder(), first, [(old, "p:first")], HyperSettings())  # type: ignore[arg-type]
    s.write(first)
    return s


def test_similar_overlapping_unit_merges(store: SQLiteStore) -> None:
    batch = WriteBatch(namespace=NS)
    new = unit("A, B, C and D met", ["A", "B", "C", "D"], [0.95, 0.3, 0], batch)  # cos 0.95
    added, merged = add_units(store, NoEmbedder(), batch, [(new, "p:second")], HyperSettings())  # type: ignore[arg-type]
    assert (added, merged) == (0, 1)
    store.write(batch)
    [h] = store.get_hyperedges(NS, ["h:A, B and C met"]).values()
    assert h.description == "A, B and C met"  # the older description (and embedding) stays
    assert h.members == [entity_id(NS, m) for m in "ABCD"]
    assert store.get_hyperedges(NS, [new.id]) == {}
    prov = {e.src for e in store.edges_of(NS, [h.id], ["STATES"])}
    assert prov == {"p:first", "p:second"}
    members = {e.dst for e in store.edges_of(NS, [h.id], ["CONNECTS"])}
    assert members == set(h.members)


@pytest.mark.parametrize(
    ("members", "vec"),
    [(["A", "B", "C", "D"], [0.5, 0.86, 0]), (["A", "D"], [1, 0, 0])],
    ids=["dissimilar-description", "small-overlap"],
)
def test_no_merge_below_either_threshold(
    store: SQLiteStore, members: list[str], vec: list[float]
) -> None:
    batch = WriteBatch(namespace=NS)
    new = unit("other", members, vec, batch)
    assert add_units(store, NoEmbedder(), batch, [(new, "p:x")], HyperSettings()) == (1, 0)  # type: ignore[arg-type]
    store.write(batch)
    assert len(store.get_hyperedges(NS, ["h:A, B and C met", new.id])) == 2


def test_units_carry_pagerank_between_members(store: SQLiteStore) -> None:
    graph = store.graph(NS)
    a, c, h = (
        graph.index_of(x) for x in (entity_id(NS, "A"), entity_id(NS, "C"), "h:A, B and C met")
    )
    assert a is not None and c is not None and h is not None
    scores = personalized_pagerank(graph, {a: 1.0})
    assert scores[h] > 0 and scores[c] > 0


def test_deleting_the_only_source_deletes_the_unit() -> None:
    s = SQLiteStore(":memory:")
    text = "A met B and C."
    batch = passage_batch(text, ["A", "B", "C"])
    batch.passages[0].source = "doc"
    units = candidate_units(batch, HyperSettings())
    for u, _ in units:
        batch.vectors[embed_key(u)] = np.array([1, 0, 0], dtype=np.float32)
    batch.embedding_model = MODEL
    add_units(s, NoEmbedder(), batch, units, HyperSettings())  # type: ignore[arg-type]
    s.write(batch)
    assert s.stats(NS).hyperedges == 1
    report = s.delete_source(NS, "doc")
    assert report.hyperedges == 1 and s.stats(NS).hyperedges == 0


def test_note_ids_and_fusion() -> None:
    a = note_unit(NS, "Ada  and Bob plan a trip.", ["e:1", "e:2", "e:1"])
    b = note_unit(NS, "Ada and Bob plan a trip.", ["e:1"])
    assert a.id == b.id and a.members == ["e:1", "e:2"] and a.kind == "note"
    ranked = minmax_fuse({"h:a": 0.9, "h:b": 0.5, "h:c": 0.1}, {"h:b": 1.0, "h:c": 0.5})
    assert [h for h, _ in ranked] == ["h:b", "h:a", "h:c"]
