"""The operations the surfaces used to read from the store themselves (issue 19, part 4):
``search_facts`` (MCP's, now the library's, and the clients'), ``facts_of``, ``sources``,
``export``, ``check`` and ``Memory(create=False)``, on a real SQLite file with the MiniLM model."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

import graphmem
from graphmem import AsyncMemory, Document, Memory
from graphmem.embed.local import LocalEmbedder
from graphmem.errors import InputError, NotFound
from graphmem.extract.precomputed import PrecomputedExtractor

from support.api import make_app

DOCS = [
    ("ada-2019", "Ada Lovelace lives in Lisbon.", datetime(2019, 1, 1, tzinfo=UTC)),
    ("ada-2023", "Ada Lovelace lives in Berlin now.", datetime(2023, 1, 1, tzinfo=UTC)),
    ("bo", "Bo Berg works in Oslo.", datetime(2022, 1, 1, tzinfo=UTC)),
]
TRIPLES = {
    "ada-2019": [("Ada Lovelace", "lives in", "Lisbon")],
    "ada-2023": [("Ada Lovelace", "lives in", "Berlin")],
    "bo": [("Bo Berg", "works in", "Oslo")],
}
QUESTION = "Where does Ada Lovelace live?"


def memory(path: Path, embedder: LocalEmbedder, **kw: object) -> Memory:
    ex = PrecomputedExtractor.from_records(
        {s: {"triples": [list(t) for t in ts]} for s, ts in TRIPLES.items()}
    )
    return Memory(f"sqlite:///{path}", embedder=embedder, extractor=ex, **kw)  # type: ignore[arg-type]


@pytest.fixture
def mem(tmp_path: Path, embedder: LocalEmbedder) -> Memory:
    m = memory(tmp_path / "m.db", embedder)
    for source, text, when in DOCS:  # one at a time: the later home ends the earlier one
        m.add(text, source=source, time=when)
    return m


def objects(hits: list[graphmem.models.FactHit]) -> list[str]:
    return [h.object_name for h in hits]


def test_search_facts_puts_what_holds_first_and_ended_facts_only_on_request(mem: Memory) -> None:
    now = mem.search_facts(QUESTION, k=5)
    assert objects(now)[:1] == ["Berlin"] and "Lisbon" not in objects(now)
    assert all(graphmem.models.is_current(h.fact) for h in now)
    # as it was in 2020: Lisbon held, Berlin did not yet
    then = datetime(2020, 6, 1, tzinfo=UTC)
    assert objects(mem.search_facts(QUESTION, k=5, as_of=then))[:1] == ["Lisbon"]
    assert "Berlin" not in objects(mem.search_facts(QUESTION, k=5, as_of=then))
    # with the facts that no longer hold (then): those that hold still come first
    history = mem.search_facts(
        QUESTION, k=5, as_of=datetime(2024, 6, 1, tzinfo=UTC), include_ended=True
    )
    holds = [graphmem.models.valid_at(h.fact, datetime(2024, 6, 1, tzinfo=UTC)) for h in history]
    assert objects(history)[:1] == ["Berlin"] and holds == sorted(holds, reverse=True)
    assert set(objects(now)) <= set(objects(mem.search_facts(QUESTION, k=5, include_ended=True)))
    assert len(mem.search_facts(QUESTION, k=1, include_ended=True)) == 1
    with pytest.raises(InputError):
        mem.search_facts(QUESTION, k=0)

    async def twin() -> list[str]:
        amem = AsyncMemory.__new__(AsyncMemory)
        amem.sync = mem  # the same memory, awaited
        return objects(await amem.search_facts(QUESTION, k=5, as_of=then))

    assert asyncio.run(twin()) == objects(mem.search_facts(QUESTION, k=5, as_of=then))


def test_the_client_searches_facts_as_memory_does(mem: Memory) -> None:
    app = make_app(mem)
    try:
        with graphmem.Client("http://test", transport=httpx.ASGITransport(app)) as client:
            for kw in ({}, {"include_ended": True}, {"as_of": datetime(2020, 6, 1, tzinfo=UTC)}):
                got = client.search_facts(QUESTION, k=5, **kw)  # type: ignore[arg-type]
                want = mem.search_facts(QUESTION, k=5, **kw)  # type: ignore[arg-type]
                assert [h.fact.id for h in got] == [h.fact.id for h in want], kw
    finally:
        asyncio.run(app.shutdown())


def test_facts_of_sources_export_and_check(mem: Memory, tmp_path: Path) -> None:
    facts = mem.facts_of("Ada Lovelace")
    assert {f.predicate for f in facts} == {"lives in"} and facts
    assert facts == mem.facts_of(facts[0].subject)  # by name or by id
    assert all(f.expired_at is None for f in facts)
    assert [f.invalid_at is not None for f in facts] == sorted(
        f.invalid_at is not None for f in facts
    )
    assert mem.sources() == ["ada-2019", "ada-2023", "bo"]
    assert mem.sources("ada") == ["ada-2019", "ada-2023"]
    assert mem.sources("zzz") == []

    stats = mem.stats()
    counts = mem.export(tmp_path / "out.jsonl")
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert sum(counts.values()) == len(lines)
    kinds = [json.loads(line).get("kind") for line in lines]
    assert counts["passage"] == kinds.count("passage") == stats.passages
    graphml = mem.export(tmp_path / "out.graphml", format="graphml")
    assert (
        graphml["nodes"] > stats.passages and "<graphml" in (tmp_path / "out.graphml").read_text()
    )
    with pytest.raises(InputError, match="unknown export format"):
        mem.export(tmp_path / "x", format="csv")
    mem.check()  # a sound file passes


def test_create_false_opens_only_what_exists(tmp_path: Path, embedder: LocalEmbedder) -> None:
    missing = tmp_path / "none.db"
    with pytest.raises(NotFound):
        memory(missing, embedder, create=False)
    assert not missing.exists()
    memory(tmp_path / "m.db", embedder).close()
    with memory(tmp_path / "m.db", embedder, create=False) as m:
        assert m.stats().passages == 0


def test_documents_read_by_the_facade_reexport(tmp_path: Path) -> None:
    from graphmem.memory import EXTRACTORS, FileProblem, read_documents

    (tmp_path / "a.md").write_text("# A\nAda was here.\n")
    (tmp_path / "empty.txt").write_text("")  # reported, not read
    problems: list[FileProblem] = []
    docs: list[Document] = list(read_documents(tmp_path, problems=problems))
    assert [d.source for d in docs] == ["a.md"] and problems
    assert set(EXTRACTORS) == {"nlp", "llm", "precomputed", "none"}
