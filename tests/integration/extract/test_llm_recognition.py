"""The LLM's recognition filter (HippoRAG 2): which matched facts seed the walk, against a local
server playing an OpenAI-compatible endpoint (one call per question, cached, failures tolerated).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from graphmem.embed.openai import OpenAIEmbedder
from graphmem.endpoint import RetryPolicy
from graphmem.extract.llm import LLMExtractor
from graphmem.extract.parse import parse_indices
from graphmem.ids import entity_id
from graphmem.memory import Memory
from graphmem.retrieve.passages import PassageSearchSettings
from graphmem.store.sqlite.store import SQLiteStore

from support.fake_openai import Answer, FakeOpenAI, ok

TRIPLES = {"Bled": ["Bled", "located in", "Slovenia"], "Oslo": ["Oslo", "capital of", "Norway"]}
QUESTION = "Which country is Bled in?"
#: both facts match (margin off), so only the recognition filter can drop one
SETTINGS = PassageSearchSettings(llm_recognition=True, fact_top_k=2, fact_margin=2.0)


def is_recognition(body: dict[str, Any]) -> bool:
    return "numbered facts" in body["messages"][0]["content"]


def responder(recognition: str | None) -> Any:
    def respond(body: dict[str, Any], _n: int) -> Answer:
        text = body["messages"][-1]["content"]
        if is_recognition(body):
            if recognition is not None:
                return ok(recognition)
            listing = text.split("Facts:\n", 1)[1].splitlines()
            keep = [i for i, line in enumerate(listing) if "Bled" in line]
            return ok(json.dumps({"relevant": keep}))
        if "?" in text:  # the question's entities
            return ok('{"named_entities": []}')
        s, p, o = next(t for name, t in TRIPLES.items() if name in text)
        return ok(json.dumps({"named_entities": [s, o], "triples": [[s, p, o]], "events": []}))

    return respond


def memory(server: FakeOpenAI, settings: PassageSearchSettings = SETTINGS) -> Memory:
    ex = LLMExtractor("m", base_url=server.url, retry=RetryPolicy(base_delay=0.01), timeout=5.0)
    mem = Memory(
        SQLiteStore(":memory:"),
        embedder=OpenAIEmbedder("e", base_url=server.url),
        extractor=ex,
        passage_search=settings,
    )
    mem.add_many(["Bled is a town in Slovenia.", "Oslo is the capital of Norway."])
    return mem


def recognition_calls(server: FakeOpenAI) -> int:
    return sum(1 for r in server.requests if is_recognition(r))


def test_recognition_keeps_the_facts_the_llm_names_and_is_cached() -> None:
    with FakeOpenAI(responder(None)) as server:
        mem = memory(server)
        seeds = mem.searcher.run(QUESTION, k=2).retrieved.passages.seeds
        assert recognition_calls(server) == 1
        assert entity_id("default", "Bled") in seeds
        assert entity_id("default", "Oslo") not in seeds
        assert entity_id("default", "Norway") not in seeds
        mem.search(QUESTION, k=2)  # the same question and facts: the cached answer
        assert recognition_calls(server) == 1
        assert mem.extractor is not None and mem.extractor.usage.calls >= 3  # type: ignore[attr-defined]
        mem.close()


def test_an_unreadable_recognition_keeps_the_local_filter(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="graphmem.extract.llm")
    with FakeOpenAI(responder("I think the first one, maybe")) as server:
        mem = memory(server)
        found = mem.searcher.run(QUESTION, k=2).retrieved.passages
        assert len(found.facts) == 2  # both facts the margin kept still seed
        assert entity_id("default", "Oslo") in found.seeds
        assert "no fact recognition" in caplog.text
        mem.close()


def test_recognition_is_off_by_default() -> None:
    with FakeOpenAI(responder(None)) as server:
        mem = memory(server, PassageSearchSettings(fact_top_k=2, fact_margin=2.0))
        found = mem.searcher.run(QUESTION, k=2).retrieved.passages
        assert recognition_calls(server) == 0 and len(found.facts) == 2
        mem.close()


def test_parse_indices_reads_what_models_write() -> None:
    assert parse_indices('```json\n{"relevant": [1, 0]}\n```', 2) == [1, 0]
    assert parse_indices("[0, 0, 5]", 2) == [0]
    assert parse_indices('{"Relevant": []}', 2) == []
