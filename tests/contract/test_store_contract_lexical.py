"""The store contract, lexical index: ``text_search`` follows writes and deletes on every store."""

from __future__ import annotations

import pytest

from graphmem.errors import InputError
from graphmem.store.base import Store, WriteBatch

from support.contract import DOCS, NS, doc_batch, passage, with_vectors

WIDE = 100  # more than any test writes: every match comes back


def found(store: Store, ns: str, query: str) -> set[str]:
    return {pid for pid, _ in store.text_search(ns, query, WIDE)}


def test_text_search_ranks_by_term_matches(store: Store, ns: NS) -> None:
    a = ns("a")
    batch = doc_batch(a, DOCS)
    store.write(batch)
    p1, p2, p3 = (p.id for p in batch.passages)
    hits = store.text_search(a, "Alice Acme", 10)
    ids = [pid for pid, _ in hits]
    assert set(ids) == {p1, p2}  # p3 has neither word
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)
    assert found(store, a, "capital") == {p3}
    # Case and stemming: "works" is stored, "WORKING" asked.
    assert found(store, a, "WORKING") == {p1, p2}
    assert store.text_search(a, "Alice", 1)[0][0] in {p1, p2}
    assert len(store.text_search(a, "Alice Acme Paris", 1)) == 1
    assert store.text_search(a, "zeppelin", 10) == []
    assert store.text_search(a, "Alice", 0) == []
    assert store.text_search(a, "", 10) == []
    assert store.text_search(a, " -- :: ", 10) == []


def test_text_search_never_crosses_namespaces(store: Store, ns: NS) -> None:
    a, b = ns("a"), ns("b")
    pa, pb = passage(a, "Zebras graze at dawn.", "x"), passage(b, "Zebras sleep at noon.", "x")
    store.write(with_vectors(WriteBatch(a, passages=[pa])))
    store.write(with_vectors(WriteBatch(b, passages=[pb])))
    assert found(store, a, "zebras") == {pa.id}
    assert found(store, b, "zebras") == {pb.id}
    assert found(store, ns("empty"), "zebras") == set()


def test_the_index_holds_exactly_the_live_passages(store: Store, ns: NS) -> None:
    a = ns("a")
    store.write(doc_batch(a, DOCS))
    batch = doc_batch(a, DOCS)
    p1, p2, p3 = (p.id for p in batch.passages)
    assert found(store, a, "Alice Paris France") == {p1, p2, p3}

    store.delete_source(a, "doc1")
    assert found(store, a, "Alice Paris France") == {p2, p3}

    # Re-ingest: the deleted passage is back, nothing is doubled.
    store.write(doc_batch(a, DOCS))
    store.write(doc_batch(a, DOCS))
    hits = store.text_search(a, "Alice Paris France", WIDE)
    assert sorted(pid for pid, _ in hits) == sorted({p1, p2, p3})

    new = passage(a, "Alice moved to Lisbon.", "doc4")
    store.write(with_vectors(WriteBatch(a, passages=[new])))
    assert found(store, a, "Lisbon") == {new.id}
    assert found(store, a, "Alice") == {p1, p2, new.id}

    store.delete_namespace(a)
    assert found(store, a, "Alice Paris France Lisbon") == set()
    store.write(doc_batch(a, DOCS[2:]))
    assert found(store, a, "Alice Paris France Lisbon") == {p3}


@pytest.mark.parametrize(
    ("query", "word"),
    [
        ('"quoted" words', "quoted"),
        ('unbalanced "quote and (paren and [bracket and {brace', "paren"),
        ("field:colon title:x @text:y", "colon"),
        ("dash-joined -negated +plus ~tilde", "negated"),
        ("AND OR NOT && || ! ^ * ? \\ / %fuzzy% $var", "fuzzy"),
        ("café naïve 日本語 Ωmega", "café"),
        ("日本語", "日本語"),
        ("emoji 🦜 and tab\tnewline\nnull\x00 surrogate\ud800 word", "emoji"),
    ],
)
def test_query_text_is_never_full_text_syntax(store: Store, ns: NS, query: str, word: str) -> None:
    a = ns("a")
    hit = passage(
        a,
        "A quoted paren colon negated fuzzy emoji text: café, naïve, 日本語 and Ωmega.",
        "x",
    )
    miss = passage(a, "Nothing of the sort is here.", "x")
    store.write(with_vectors(WriteBatch(a, passages=[hit, miss])))
    hits = store.text_search(a, query, 10)
    assert hit.id in {pid for pid, _ in hits}, query
    assert found(store, a, word) == {hit.id}


def test_text_search_refuses_bad_arguments(store: Store, ns: NS) -> None:
    a = ns("a")
    with pytest.raises(InputError, match="'k'"):
        store.text_search(a, "x", -1)
    with pytest.raises(InputError, match="'query'"):
        store.text_search(a, None, 3)  # type: ignore[arg-type]
