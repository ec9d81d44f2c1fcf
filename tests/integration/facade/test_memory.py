"""Memory end to end on a real SQLite file, the real MiniLM model and real extractors."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import signal
from collections.abc import Sequence
from pathlib import Path

import pytest

from graphmem import AsyncMemory, Document, Memory
from graphmem.embed.local import LocalEmbedder
from graphmem.errors import InputError
from graphmem.extract.base import ExtractedFact, Extraction
from graphmem.extract.precomputed import PrecomputedExtractor
from graphmem.models import Passage

CORPUS = [
    ("ada", "Ada Lovelace was born in London."),
    ("london", "London is the capital of the United Kingdom."),
    ("paris", "Paris is the capital of France."),
    ("hugo", "Victor Hugo was born in Besançon."),
    ("besancon", "Besançon is a city in France."),
]

# An LLM-style extraction made elsewhere, so the graph is exactly known.
TRIPLES = {
    "ada": [("Ada Lovelace", "born in", "London")],
    "london": [("London", "capital of", "United Kingdom")],
    "paris": [("Paris", "capital of", "France")],
    "hugo": [("Victor Hugo", "born in", "Besançon")],
    "besancon": [("Besançon", "city in", "France")],
    "atlas": [("Paris", "capital of", "France")],
}


def precomputed() -> PrecomputedExtractor:
    return PrecomputedExtractor.from_records(
        {src: {"triples": [list(t) for t in ts]} for src, ts in TRIPLES.items()}
    )


def memory(path: Path, embedder: LocalEmbedder, extractor: object = None) -> Memory:
    return Memory(f"sqlite:///{path}", embedder=embedder, extractor=extractor or precomputed())  # type: ignore[arg-type]


def docs() -> list[Document]:
    return [Document(text=t, source=s) for s, t in CORPUS]


def test_two_hop_question_reaches_the_second_passage(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    with memory(tmp_path / "m.db", embedder) as mem:
        report = mem.add_many(docs())
        assert report.passages_added == 5 and report.facts_added == 5
        result = mem.search("In which country is the city where Victor Hugo was born?", k=3)
        sources = [h.passage.source for h in result.passages]
        assert result.mode == "graph"
        assert "hugo" in sources[:2] and "besancon" in sources[:3]
        hugo = next(h for h in result.passages if h.passage.source == "hugo")
        assert any(f.fact.predicate == "born in" for f in hugo.facts)
        assert all(h.score >= 0 for h in result.passages)
        assert [h.score for h in result.passages] == sorted(
            (h.score for h in result.passages), reverse=True
        )


def test_reingest_does_no_extraction_no_embedding_and_adds_nothing(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    with memory(tmp_path / "m.db", embedder, extractor="nlp") as mem:
        first = mem.add_many(docs())
        before = mem.stats()
        second = mem.add_many(docs())
        assert first.extraction_calls == 5 and first.texts_embedded > 5
        assert second.passages_skipped == 5
        assert (
            second.extraction_calls == 0
            and second.texts_embedded == 0
            and second.passages_added == 0
        )
        assert mem.stats() == before
    # A new process on the same file: still nothing to do, nothing recomputed.
    with memory(tmp_path / "m.db", embedder, extractor="nlp") as mem:
        again = mem.add_many(docs())
        assert again.texts_embedded == 0 and again.extraction_calls == 0
        assert mem.stats() == before


def test_caches_are_per_namespace_text_seen_in_another_is_extracted_again(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    # a hit on another namespace's text would reveal that it stored it (issue 21)
    with memory(tmp_path / "m.db", embedder, extractor="nlp") as mem:
        first = mem.add_many(docs(), namespace="a")
        other = mem.add_many(docs(), namespace="b")
        assert other.extraction_cache_hits == 0 and other.extraction_calls == 5
        assert other.texts_embedded == first.texts_embedded > 5
        assert mem.stats("b").facts == mem.stats("a").facts > 0


class FlakyExtractor:
    """Fails on passages containing a marker, like an LLM endpoint that errors on some inputs."""

    name, version, cacheable = "flaky", "1", True

    def __init__(self, fail_marker: str | None) -> None:
        self.fail_marker = fail_marker
        self.calls = 0

    def extract(self, passages: Sequence[Passage]) -> list[Extraction]:
        self.calls += len(passages)
        out = []
        for p in passages:
            if self.fail_marker and self.fail_marker in p.text:
                out.append(Extraction(error="server answered 500"))
            else:
                words = p.text.rstrip(".").split()
                out.append(
                    Extraction(
                        facts=[ExtractedFact(subject=words[0], predicate="says", object=words[-1])]
                    )
                )
        return out


def test_failed_extraction_keeps_the_passage_and_retry_fixes_it(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    with Memory(
        f"sqlite:///{tmp_path / 'm.db'}", embedder=embedder, extractor=FlakyExtractor("Paris")
    ) as mem:
        report = mem.add_many(docs())
        assert report.passages_failed == 1 and report.passages_added == 4
        failed = mem.store.failed_passages("default")
        assert [p.source for p in failed] == ["paris"] and "500" in (failed[0].error or "")
        # the failed passage is still searchable densely
        assert any(
            h.passage.source == "paris" for h in mem.search("capital of France", k=5).passages
        )
        # a plain re-run skips it; retry_failed extracts it again
        assert mem.add_many(docs()).passages_added == 0
    fixed = FlakyExtractor(None)
    with Memory(f"sqlite:///{tmp_path / 'm.db'}", embedder=embedder, extractor=fixed) as mem:
        again = mem.retry_failed()
        assert fixed.calls == 1 and again.passages_added == 1
        assert mem.store.failed_passages("default") == []
        assert mem.stats().failed_passages == 0


def test_delete_source_keeps_what_other_passages_still_state(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    with memory(tmp_path / "m.db", embedder) as mem:
        mem.add_many(docs())
        mem.add("Paris is the capital of France, said the atlas.", source="atlas")
        france = mem.get_entity("France")
        assert france is not None
        report = mem.delete(source="paris")
        assert report.passages == 1
        assert mem.get_entity("France") is not None  # still stated by besancon and atlas
        assert mem.get_entity("Paris") is not None  # atlas still states the same fact
        assert mem.stats().facts == 5
        mem.delete(source="atlas")
        assert mem.get_entity("Paris") is None
        assert mem.stats().facts == 4
        assert all(
            h.passage.source not in {"paris", "atlas"}
            for h in mem.search("capital of France", k=5).passages
        )


def test_bad_input_is_refused_and_leaves_the_store_unchanged(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    with memory(tmp_path / "m.db", embedder) as mem:
        mem.add_many(docs()[:2])
        before = mem.stats()
        with pytest.raises(InputError, match="empty"):
            mem.add_many([Document(text="Fine text."), Document(text="   ")])
        with pytest.raises(InputError, match="limit"):
            mem.add("x" * 10_000_001)
        with pytest.raises(InputError, match="question"):
            mem.search("   ")
        with pytest.raises(InputError, match="k must be"):
            mem.search("anything", k=10**9)
        with pytest.raises(InputError, match="namespace"):
            mem.add("ok", namespace="bad namespace!")
        assert mem.stats() == before


def _ingest_then_die(db: str, kill_after_batches: int) -> None:
    embedder = LocalEmbedder()
    mem = Memory(f"sqlite:///{db}", embedder=embedder, extractor=precomputed())
    done = 0

    def step(_: int) -> None:
        nonlocal done
        done += 1
        if done == kill_after_batches:
            os.kill(os.getpid(), signal.SIGKILL)

    mem.add_many(docs(), batch_size=2, on_progress=step)


def test_kill_9_mid_ingest_leaves_a_consistent_resumable_store(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    db = str(tmp_path / "crash.db")
    proc = mp.get_context("spawn").Process(target=_ingest_then_die, args=(db, 2))
    proc.start()
    proc.join(120)
    assert proc.exitcode == -signal.SIGKILL
    with memory(Path(db), embedder) as mem:
        partial = mem.stats()
        assert partial.passages == 4  # two whole batches of two, nothing of the third
        mem.add_many(docs(), batch_size=2)
        resumed = mem.stats()
    with memory(tmp_path / "clean.db", embedder) as clean:
        clean.add_many(docs(), batch_size=2)
        assert resumed.model_dump(exclude={"namespace"}) == clean.stats().model_dump(
            exclude={"namespace"}
        )


def test_async_memory_has_the_same_methods(tmp_path: Path, embedder: LocalEmbedder) -> None:
    async def main() -> None:
        async with AsyncMemory(
            f"sqlite:///{tmp_path / 'a.db'}", embedder=embedder, extractor=precomputed()
        ) as mem:
            report = await mem.add_many(docs())
            assert report.passages_added == 5
            result = await mem.search("Where was Ada Lovelace born?", k=2)
            assert result.passages[0].passage.source == "ada"
            assert (await mem.stats()).passages == 5
            ent = await mem.get_entity("London")
            assert ent is not None and ent.name == "London"
            drawn = await mem.explain("Where was Ada Lovelace born?", k=2)
            assert any(n.kind == "passage" for n in drawn.nodes)

    asyncio.run(main())
    # every public method of Memory has its awaitable twin
    public = {n for n in dir(Memory) if not n.startswith("_") and callable(getattr(Memory, n))}
    assert public <= {n for n in dir(AsyncMemory) if not n.startswith("_")}, public - set(
        dir(AsyncMemory)
    )
