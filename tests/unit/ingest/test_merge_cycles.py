"""Merges settle to one canonical name per folded form, never a chain or a cycle (issue 21, item 0).

"Roman Polanski" and "Roman Polański" fold alike; when a document's name index and the
namespace's kept different spellings, short-name resolution mapped each to the other and the
pipeline's ``entity()`` followed the merges without end (RecursionError).
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphmem.extract.base import ExtractedEntity, ExtractedFact, Extraction
from graphmem.ingest.merges import settle_merges
from graphmem.ingest.resolve import Resolution, resolve_documents, resolve_mentions
from graphmem.models import Passage
from graphmem.names import NameIndex, fold

# Names with fold-alike spellings, short forms and unrelated ones.
NAMES = [
    "Roman Polanski",
    "Roman Polański",
    "ROMAN POLANSKI",
    "Polanski",
    "Polański",
    "Roman",
    "Tomás Silva",
    "Tomas Silva",
    "Silva",
    "Ada Lovelace",
    "Ada",
    "Lovelace",
]
names = st.sampled_from(NAMES)


def reach(merges: dict[str, str], name: str) -> set[str]:
    """Every name ``name`` leads to along merges or by folding alike (either way)."""
    every = set(merges) | set(merges.values()) | {name}
    seen, todo = {name}, [name]
    while todo:
        cur = todo.pop()
        nxt = {merges[cur]} if cur in merges else set()
        nxt |= {n for n in every if fold(n) == fold(cur)}
        for n in nxt - seen:
            seen.add(n)
            todo.append(n)
    return seen


def check_settled(raw: dict[str, str], out: dict[str, str]) -> None:
    assert set(out) <= set(raw) | set(raw.values())
    for key, target in out.items():
        assert key != target, "a name never merges into itself"
        assert target not in out, f"chain or cycle: {key} -> {target} -> {out[target]}"
        assert target in reach(raw, key), "a name merges only into a name it led to"
    every = set(raw) | set(raw.values())
    for a in every:
        for b in every:
            if fold(a) == fold(b):
                assert out.get(a, a) == out.get(b, b), f"{a!r} and {b!r} fold alike"
    assert settle_merges(out, fold) == out, "settling is idempotent"


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(names, names, max_size=10))
def test_random_merge_maps_settle_without_chains_or_cycles(raw: dict[str, str]) -> None:
    check_settled(raw, settle_merges(raw, fold))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(names, min_size=1, max_size=4), min_size=1, max_size=4),
    st.lists(names, max_size=4),
)
def test_resolved_documents_never_chain(docs: list[list[str]], stored: list[str]) -> None:
    """Real resolution over random documents (passages of one source) and a stored namespace."""
    namespace = NameIndex()
    namespace.add_all((n, "PERSON") for n in stored)
    passages, extractions = [], []
    for d, doc in enumerate(docs):
        for i, name in enumerate(doc):
            passages.append(Passage(id=f"p:{d}.{i}", text=name, source=f"doc{d}"))
            extractions.append(
                Extraction(
                    entities=[ExtractedEntity(name=name, type="PERSON")],
                    facts=[ExtractedFact(subject=name, predicate="met", object="Paris")],
                )
            )
    for resolution in resolve_documents(namespace, passages, extractions).values():
        merges = resolution.merges
        for key, target in merges.items():
            assert target not in merges, f"chain or cycle: {key} -> {target} -> {merges[target]}"


def test_the_polanski_cycle_resolves_to_the_namespace_spelling() -> None:
    document = NameIndex()
    document.add("Roman Polański", "PERSON")
    namespace = NameIndex()
    namespace.add("Roman Polanski", "PERSON")
    namespace.add("Roman Polański", "PERSON")  # same fold: the first spelling is kept
    got = resolve_mentions(
        {"Roman Polanski": "PERSON", "Roman Polański": "PERSON", "Polański": None},
        document,
        namespace,
    )
    assert got.merges == {"Roman Polański": "Roman Polanski", "Polański": "Roman Polanski"}


def test_a_document_whose_names_fail_to_resolve_is_kept_unresolved(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import graphmem.ingest.resolve as resolve

    real = resolve.resolve_mentions

    def flaky(mentions: dict[str, str | None], *args: object) -> Resolution:
        if "Broken Name" in mentions:
            raise RecursionError("boom")
        return real(mentions, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(resolve, "resolve_mentions", flaky)
    passages = [Passage(id="p:1", text="a", source="bad"), Passage(id="p:2", text="b", source="ok")]
    extractions = [
        Extraction(entities=[ExtractedEntity(name="Broken Name", type="PERSON")]),
        Extraction(
            entities=[
                ExtractedEntity(name="Ada Lovelace", type="PERSON"),
                ExtractedEntity(name="Ada", type="PERSON"),
            ]
        ),
    ]
    failed: list[str] = []
    with caplog.at_level(logging.WARNING):
        out = resolve_documents(NameIndex(), passages, extractions, failed=failed)
    assert out["p:1"] == Resolution()
    assert out["p:2"].merges == {"Ada": "Ada Lovelace"}
    assert failed == ["bad"]
    assert "bad" in caplog.text and "boom" in caplog.text
