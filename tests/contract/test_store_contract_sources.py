"""The store contract, passage sources: the same text from two sources keeps both."""

from __future__ import annotations

from graphmem.models import DeleteReport
from graphmem.store.base import Store, WriteBatch

from support.contract import NS, doc_batch, passage, with_vectors

TEXT = "Alice works at Acme."


def test_a_passage_keeps_every_source_and_goes_with_the_last(store: Store, ns: NS) -> None:
    a = ns("a")
    x = doc_batch(a, [("X", TEXT, [("Alice", "works at", "Acme")])])
    store.write(x)
    pid = x.passages[0].id
    # The same text from Y, as a re-ingest writes it: the passage again, and as a known source.
    store.write(doc_batch(a, [("Y", TEXT, [("Alice", "works at", "Acme")])]))
    store.write(WriteBatch(a, sources=[(pid, "Z"), ("p:not-stored", "Z")]))
    assert store.get_passages(a, [pid])[pid].source == "X"  # the first, for display

    assert store.delete_source(a, "X").passages == 0
    kept = store.get_passages(a, [pid])[pid]
    assert kept.source == "Y" and kept.text == TEXT
    assert store.stats(a).facts == 1
    assert [p for p, _ in store.text_search(a, "Alice", 5)] == [pid]

    assert store.delete_source(a, "Z").passages == 0
    assert store.delete_source(a, "X") == DeleteReport()  # already gone from it
    report = store.delete_source(a, "Y")
    assert (report.passages, report.facts, report.entities) == (1, 1, 2)
    assert store.get_passages(a, [pid]) == {}
    assert store.text_search(a, "Alice", 5) == []


def test_sources_are_recorded_once_and_re_ingest_changes_nothing(store: Store, ns: NS) -> None:
    a = ns("a")
    p = passage(a, TEXT, "X")
    twice = with_vectors(WriteBatch(a, passages=[p, p.model_copy(update={"source": "Y"})]))
    store.write(twice)
    stats = store.stats(a)
    for _ in range(2):
        store.write(twice)
        store.write(WriteBatch(a, sources=[(p.id, "Y"), (p.id, "X")]))
    assert store.stats(a) == stats
    assert store.get_passages(a, [p.id])[p.id].source == "X"
    store.delete_source(a, "Y")
    assert store.get_passages(a, [p.id])[p.id].source == "X"
    assert store.delete_source(a, "X").passages == 1


def test_a_source_of_one_namespace_is_not_another_s(store: Store, ns: NS) -> None:
    a, b = ns("a"), ns("b")
    pa, pb = passage(a, TEXT, "X"), passage(b, TEXT, "Y")
    store.write(with_vectors(WriteBatch(a, passages=[pa])))
    store.write(with_vectors(WriteBatch(b, passages=[pb])))
    store.write(WriteBatch(b, sources=[(pb.id, "X")]))
    assert store.delete_source(a, "X").passages == 1
    assert store.get_passages(b, [pb.id])[pb.id].source == "Y"
    assert store.delete_source(b, "X").passages == 0
    assert store.delete_source(b, "Y").passages == 1
