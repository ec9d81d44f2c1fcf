"""The store contract, lexical index: ``text_search`` (passages and episodes) follows writes and
deletes on every store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from graphmem.errors import InputError
from graphmem.ids import episode_id
from graphmem.models import Episode
from graphmem.store.base import Store, WriteBatch

from support.contract import DOCS, NS, T0, doc_batch, passage, with_vectors

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


def episode(ns: str, text: str, minute: int, source: str = "chat") -> Episode:
    t = T0 + timedelta(minutes=minute)
    return Episode(
        id=episode_id(ns, "s1", t.isoformat(), "user", text),
        text=text,
        time=t,
        speaker="user",
        session="s1",
        source=source,
        namespace=ns,
    )


def test_episode_text_search_follows_writes_and_deletes(store: Store, ns: NS) -> None:
    a, b = ns("a"), ns("b")
    e1 = episode(a, "My cat Miso loves the garden.", 0)
    e2 = episode(a, "I adopted a second cat last week.", 1, source="other")
    e3 = episode(a, "Work at the bakery starts early.", 2)
    p = passage(a, "Cats are popular pets in the garden.", "doc")
    store.write(with_vectors(WriteBatch(a, passages=[p], episodes=[e1, e2, e3])))
    store.write(with_vectors(WriteBatch(b, episodes=[episode(b, "Another cat elsewhere.", 0)])))

    hits = store.text_search(a, "cat garden", WIDE, kind="episode")
    if store.text_ranking == "bm25":  # FalkorDB's TF-IDF may rank otherwise
        assert hits[0][0] == e1.id  # both words beat one
    assert {i for i, _ in hits} == {e1.id, e2.id}  # never the passage, never namespace b
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    # Stemming as for passages: "adopting" finds "adopted"; passages stay the default kind.
    assert {i for i, _ in store.text_search(a, "ADOPTING", WIDE, kind="episode")} == {e2.id}
    assert found(store, a, "cat garden") == {p.id}
    assert store.text_search(a, "cat", 0, kind="episode") == []

    store.delete_source(a, "other")
    assert {i for i, _ in store.text_search(a, "cat", WIDE, kind="episode")} == {e1.id}
    store.write(with_vectors(WriteBatch(a, episodes=[e2])))
    store.write(with_vectors(WriteBatch(a, episodes=[e2])))  # again: nothing doubles
    hits = store.text_search(a, "cat", WIDE, kind="episode")
    assert sorted(i for i, _ in hits) == sorted([e1.id, e2.id])
    store.delete_namespace(a)
    assert store.text_search(a, "cat bakery", WIDE, kind="episode") == []
    assert {i for i, _ in store.text_search(b, "cat", WIDE, kind="episode")} != set()


def test_text_search_refuses_an_unknown_kind(store: Store, ns: NS) -> None:
    with pytest.raises(InputError, match="'kind'"):
        store.text_search(ns("a"), "x", 3, kind="fact")  # type: ignore[arg-type]
