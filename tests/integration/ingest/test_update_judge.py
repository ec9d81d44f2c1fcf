"""The LLM's update decision on candidate conflicts (issue 22): an UPDATE ends the held fact and
links it to the newer one, ADD/NOOP/a failed call leave both holding, calls are bounded, a
re-ingest asks again for nothing. Real SQLite and MiniLM; the judge is a recording function here,
and an LLMExtractor behind a fake OpenAI server (and the real llama.cpp one in
test_llm_llamacpp.py) for the call itself."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from graphmem.embed.local import LocalEmbedder
from graphmem.extract.llm import LLMExtractor
from graphmem.ids import entity_id, episode_id, fact_id
from graphmem.ingest.temporal import TemporalHook, TemporalSettings
from graphmem.models import Edge, Entity, Episode, Fact, IngestReport
from graphmem.store.base import WriteBatch
from graphmem.store.sqlite import SQLiteStore

from support.fake_openai import FakeOpenAI, ok, script

NS = "j"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def batch(when: datetime, predicate: str, obj: str) -> WriteBatch:
    """Dana (a speaker) states one fact in one episode."""
    text = f"Dana {predicate} {obj}"
    ep = Episode(
        id=episode_id(NS, "s", when.isoformat(), "Dana", text),
        namespace=NS,
        text=text,
        time=when,
        speaker="Dana",
    )
    s, o = entity_id(NS, "Dana"), entity_id(NS, obj)
    fact = Fact(
        id=fact_id(NS, "Dana", predicate, obj),
        namespace=NS,
        subject=s,
        predicate=predicate,
        object=o,
        text=text,
    )
    return WriteBatch(
        namespace=NS,
        entities=[
            Entity(id=s, namespace=NS, name="Dana", normalized="dana", type="PERSON"),
            Entity(id=o, namespace=NS, name=obj, normalized=obj.lower()),
        ],
        facts=[fact],
        episodes=[ep],
        edges=[Edge(type="EVIDENCE", src=ep.id, dst=fact.id, namespace=NS)],
    )


class Recorder:
    def __init__(self, decision: str | None) -> None:
        self.decision = decision
        self.calls: list[tuple[str, str, str]] = []

    def __call__(self, held: str, newer: str, slot: str) -> str | None:
        self.calls.append((held, newer, slot))
        return self.decision


def run(store: SQLiteStore, hook: TemporalHook, emb: LocalEmbedder, b: WriteBatch) -> None:
    known = store.get_facts(NS, [f.id for f in b.facts])
    for f in b.facts:  # what Ingestor.commit does before the hooks
        if f.id in known:
            k = known[f.id]
            f.created_at, f.valid_at, f.invalid_at = k.created_at, k.valid_at, k.invalid_at
            f.expired_at, f.slot, f.superseded_by = k.expired_at, k.slot, k.superseded_by
    hook(store, emb, b, IngestReport())
    store.write(b)


ACME = fact_id(NS, "Dana", "works for", "Acme")
GIG = fact_id(NS, "Dana", "started a new gig at", "Initech")


@pytest.mark.parametrize(("decision", "ended"), [("UPDATE", True), ("ADD", False), (None, False)])
def test_the_judge_decides_a_candidate_conflict(
    tmp_path: Path, embedder: LocalEmbedder, decision: str | None, ended: bool
) -> None:
    store = SQLiteStore(tmp_path / "j.db")
    judge = Recorder(decision)
    hook = TemporalHook(TemporalSettings(), judge=judge)
    run(store, hook, embedder, batch(T0, "works for", "Acme"))
    assert judge.calls == []  # nothing held to conflict with yet
    run(store, hook, embedder, batch(T0 + timedelta(days=30), "started a new gig at", "Initech"))
    # "started a new gig at" comes near the employer slot without reaching the threshold
    assert judge.calls == [("Dana works for Acme", "Dana started a new gig at Initech", "employer")]
    facts = store.get_facts(NS, [ACME, GIG])
    assert (facts[ACME].invalid_at is not None) is ended
    assert facts[GIG].invalid_at is None
    if ended:
        assert facts[ACME].superseded_by == GIG and facts[GIG].slot == "employer"
        assert facts[ACME].invalid_at == T0 + timedelta(days=30)
    # a re-ingest of the newer statement asks nothing new and changes nothing
    run(store, hook, embedder, batch(T0 + timedelta(days=30), "started a new gig at", "Initech"))
    assert len(judge.calls) == (1 if ended else 2)
    again = store.get_facts(NS, [ACME, GIG])
    assert again[ACME].invalid_at == facts[ACME].invalid_at
    store.close()


def test_judgments_are_bounded_and_clear_slots_are_not_asked(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    store = SQLiteStore(tmp_path / "j.db")
    judge = Recorder("UPDATE")
    hook = TemporalHook(TemporalSettings(max_judgments=0), judge=judge)
    run(store, hook, embedder, batch(T0, "works for", "Acme"))
    run(store, hook, embedder, batch(T0 + timedelta(days=30), "started a new gig at", "Initech"))
    assert judge.calls == [] and store.get_facts(NS, [ACME])[ACME].invalid_at is None
    # a relation the offline matcher places ("joined": employer) ends Acme with no call
    hook = TemporalHook(TemporalSettings(), judge=judge)
    run(store, hook, embedder, batch(T0 + timedelta(days=60), "joined", "Globex"))
    assert judge.calls == [] and store.get_facts(NS, [ACME])[ACME].invalid_at is not None
    store.close()


def test_llm_update_decisions_are_parsed_cached_and_tolerate_broken_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="graphmem.extract.llm")
    answers = [ok(json.dumps({"decision": "update"})), ok("maybe? not sure")]
    with FakeOpenAI(script(answers)) as server:
        ex = LLMExtractor("test-model", base_url=server.url, max_retries=0, timeout=5.0)
        try:
            assert ex.judge_update("Dana works for Acme", "Dana joined Initech", "employer") == (
                "UPDATE"
            )
            assert ex.judge_update("Dana works for Acme", "Dana joined Initech", "employer") == (
                "UPDATE"
            )
            assert len(server.requests) == 1  # the second answer came from the cache
            sent = server.requests[0]["messages"][-1]["content"]
            assert "Held (employer): Dana works for Acme" in sent
            assert ex.judge_update(
                "Dana lives in Leeds", "Dana hangs out in Soho", "residence"
            ) is (None)
        finally:
            ex.close()
    assert "no update decision" in caplog.text


def test_memory_gives_an_llm_extractor_the_judgment_and_the_offline_one_none(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    from graphmem import Memory

    with FakeOpenAI(script([ok("{}")])) as server:
        ex = LLMExtractor("test-model", base_url=server.url, max_retries=0, timeout=5.0)
        with Memory(f"sqlite:///{tmp_path / 'a.db'}", embedder=embedder, extractor=ex) as mem:
            assert mem.temporal_hook.judge == ex.judge_update
    with Memory(f"sqlite:///{tmp_path / 'b.db'}", embedder=embedder, extractor="nlp") as mem:
        assert mem.temporal_hook.judge is None
