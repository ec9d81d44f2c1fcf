"""LLMExtractor against a local HTTP server playing what real endpoints do: rate limits, server
errors, hangs, broken or fenced JSON, empty answers, refusals, unsupported response formats.

For each: the right number of requests and retries, a log line saying what happened, the passage
either repaired or returned failed (so the ingest stores it for --retry-failed), counters right.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import pytest

from graphmem.endpoint import RetryPolicy
from graphmem.errors import BudgetExceeded
from graphmem.extract.llm import LLMExtractor
from graphmem.ids import passage_id
from graphmem.models import Passage

from support.fake_openai import Answer, FakeOpenAI, ok, script, status

GOOD = json.dumps(
    {
        "named_entities": ["Bled", "Slovenia"],
        "triples": [["Bled", "located in", "Slovenia"], ["Bled", "has", "a lake"]],
        "events": [{"description": "Bled hosted rowing", "time": "1966", "participants": ["Bled"]}],
    }
)
FAST = RetryPolicy(base_delay=0.01, max_delay=0.05)


def passage(text: str = "Bled is a town in Slovenia.") -> Passage:
    return Passage(id=passage_id("default", text), text=text)


def extractor(server: FakeOpenAI, **kw: Any) -> LLMExtractor:
    kw.setdefault("retry", FAST)
    kw.setdefault("max_retries", 3)
    kw.setdefault("timeout", 5.0)
    return LLMExtractor("test-model", base_url=server.url, **kw)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="graphmem.extract.llm")
    return caplog


def messages(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records)


def test_429_with_retry_after_is_honoured(logs: pytest.LogCaptureFixture) -> None:
    with FakeOpenAI(script([status(429, retry_after=0.4), ok(GOOD)])) as server:
        ex = extractor(server)
        start = time.perf_counter()
        [result] = ex.extract([passage()])
        elapsed = time.perf_counter() - start
        ex.close()
    assert len(server.requests) == 2
    assert result.error is None and len(result.facts) == 2
    # the backoff alone would wait ~0.01 s: the 0.4 s came from Retry-After
    assert elapsed >= 0.4
    assert result.usage["retries"] == 1 and result.usage["calls"] == 1
    assert ex.usage.retries == 1 and ex.usage.calls == 1 and ex.usage.failed == 0
    assert "HTTP 429" in messages(logs) and "Retry-After" in messages(logs)


def test_persistent_500_gives_up_after_max_retries(logs: pytest.LogCaptureFixture) -> None:
    with FakeOpenAI(script([status(500, message="boom")])) as server:
        ex = extractor(server, max_retries=2)
        [result] = ex.extract([passage()])
        ex.close()
    assert len(server.requests) == 3
    assert result.error is not None and "gave up after 3 attempts" in result.error
    assert "HTTP 500" in result.error
    assert result.facts == [] and result.entities == []
    assert result.usage["retries"] == 2 and result.usage["calls"] == 0
    assert ex.usage.failed == 1 and ex.usage.passages == 1
    retry_lines = [r for r in logs.records if "retrying in" in r.getMessage()]
    assert len(retry_lines) == 2


def test_500_then_success_recovers() -> None:
    with FakeOpenAI(script([status(500), status(503), ok(GOOD)])) as server:
        ex = extractor(server)
        [result] = ex.extract([passage()])
        ex.close()
    assert len(server.requests) == 3
    assert result.error is None and result.usage["retries"] == 2


def test_timeout_is_retried(logs: pytest.LogCaptureFixture) -> None:
    with FakeOpenAI(script([Answer(content=GOOD, delay=2.0), ok(GOOD)])) as server:
        ex = extractor(server, timeout=0.5)
        [result] = ex.extract([passage()])
        ex.close()
    assert len(server.requests) == 2
    assert result.error is None and len(result.facts) == 2
    assert result.usage["retries"] == 1
    assert "timed out" in messages(logs)


def test_timeouts_exhausted_fail_the_passage() -> None:
    with FakeOpenAI(script([Answer(content=GOOD, delay=1.0)])) as server:
        ex = extractor(server, timeout=0.2, max_retries=1)
        [result] = ex.extract([passage()])
        ex.close()
    assert len(server.requests) == 2
    assert result.error is not None and "timed out" in result.error


def test_truncated_json_is_repaired(logs: pytest.LogCaptureFixture) -> None:
    cut = GOOD[: GOOD.index('"a lake"') + 4]  # ends inside the second triple's object
    with FakeOpenAI(script([ok(cut, finish_reason="length")])) as server:
        ex = extractor(server)
        [result] = ex.extract([passage()])
        ex.close()
    assert len(server.requests) == 1
    assert result.error is None
    assert [(f.subject, f.predicate, f.object) for f in result.facts] == [
        ("Bled", "located in", "Slovenia")
    ]
    assert all(f.subject and f.predicate and f.object for f in result.facts)
    assert result.usage["outputs_repaired"] == 1 and ex.usage.outputs_repaired == 1
    assert "broken JSON repaired" in messages(logs)
    assert "cut at the token limit" in messages(logs)


def test_json_in_a_code_fence() -> None:
    fenced = "Here is the graph:\n```json\n" + GOOD + "\n```\nHope it helps."
    with FakeOpenAI(script([ok(fenced)])) as server:
        ex = extractor(server)
        [result] = ex.extract([passage()])
        ex.close()
    assert result.error is None
    assert len(result.facts) == 2 and len(result.entities) == 2 and len(result.events) == 1
    assert result.events[0].participants == ["Bled"]
    assert result.repaired == 0 and result.dropped == 0


def test_four_and_two_part_triples_are_repaired_and_dropped(
    logs: pytest.LogCaptureFixture,
) -> None:
    answer = json.dumps(
        {
            "triples": [
                ["Adam", "is", "nephew of", "Alan"],
                ["Metlako Falls", "is tall"],
                ["a", "b", 3],
            ]
        }
    )
    with FakeOpenAI(script([ok(answer)])) as server:
        ex = extractor(server)
        [result] = ex.extract([passage()])
        ex.close()
    assert [(f.subject, f.predicate, f.object) for f in result.facts] == [
        ("Adam", "is nephew of", "Alan"),
        ("a", "b", "3"),
    ]
    assert (result.repaired, result.dropped) == (2, 1)
    assert ex.usage.repaired == 2 and ex.usage.dropped == 1
    assert "2 items repaired, 1 dropped" in messages(logs)


def test_empty_lists_are_a_valid_answer() -> None:
    with FakeOpenAI(script([ok('{"named_entities": [], "triples": [], "events": []}')])) as server:
        ex = extractor(server)
        [result] = ex.extract([passage("Nothing to see here.")])
        ex.close()
    assert len(server.requests) == 1
    assert result.error is None and result.facts == [] and result.entities == []
    assert ex.usage.failed == 0


def test_refusal_fails_the_passage_without_retrying(logs: pytest.LogCaptureFixture) -> None:
    refusal = Answer(content=None, refusal="I can't help with that request.")
    prose = ok("I'm sorry, but I can't assist with that.")
    with FakeOpenAI(script([refusal, prose])) as server:
        ex = extractor(server, concurrency=1)
        first, second = ex.extract([passage("one"), passage("two")])
        ex.close()
    assert len(server.requests) == 2
    assert first.error is not None and "refused" in first.error
    assert second.error is not None and "no JSON" in second.error
    assert first.usage["retries"] == 0 and first.usage["calls"] == 1
    assert ex.usage.failed == 2 and ex.usage.passages == 2
    assert "unusable answer" in messages(logs)


def test_unsupported_response_format_downgrades_once(logs: pytest.LogCaptureFixture) -> None:
    def respond(body: dict[str, Any], _n: int) -> Answer:
        if body.get("response_format", {}).get("type") == "json_schema":
            return status(400, message="response_format json_schema is not supported")
        return ok(GOOD)

    with FakeOpenAI(respond) as server:
        ex = extractor(server, concurrency=1)
        results = ex.extract([passage("one")])
        results += ex.extract([passage("two"), passage("three")])
        ex.close()
    kinds = [r.get("response_format", {}).get("type", "text") for r in server.requests]
    # the first passage probes json_schema, then json_object; later ones go straight there
    assert kinds == ["json_schema", "json_object", "json_object", "json_object"]
    assert all(r.error is None for r in results)
    assert ex.output_mode.value == "json_object"
    assert "refused response_format=json_schema" in messages(logs)


def test_schema_sent_in_json_schema_mode() -> None:
    with FakeOpenAI(script([ok(GOOD)])) as server:
        ex = extractor(server)
        ex.extract([passage()])
        ex.close()
    fmt = server.requests[0]["response_format"]
    assert fmt["type"] == "json_schema"
    assert set(fmt["json_schema"]["schema"]["properties"]) == {
        "named_entities",
        "triples",
        "events",
    }


def test_bad_key_stops_later_requests(logs: pytest.LogCaptureFixture) -> None:
    with FakeOpenAI(script([status(401, message="invalid api key")])) as server:
        ex = extractor(server, concurrency=1)
        results = ex.extract([passage(str(i)) for i in range(5)])
        ex.close()
    assert len(server.requests) == 1
    assert all(r.error and "401" in r.error for r in results)
    assert "stopping this ingest's requests" in messages(logs)


def test_token_budget_stops_cleanly(logs: pytest.LogCaptureFixture) -> None:
    with FakeOpenAI(script([ok(GOOD, usage=(100, 20, 0))])) as server:
        ex = extractor(server, concurrency=1, max_tokens_budget=300)
        results = ex.extract([passage(f"p{i}") for i in range(6)])
        # 120 tokens a call: the third call crosses 300, then no more requests
        assert len(server.requests) == 3
        assert [r.error is None for r in results] == [True] * 3 + [False] * 3
        assert all("budget exceeded" in (r.error or "") for r in results[3:])
        assert ex.budget_exceeded and ex.ingest_usage.total_tokens == 360
        with pytest.raises(BudgetExceeded):
            ex.check_budget()
        assert "token budget of 300 reached" in messages(logs)
        ex.reset_budget()
        again = ex.extract([passage("p3")])
        assert again[0].error is None and len(server.requests) == 4
        ex.close()
    assert ex.usage.total_tokens == 480 and ex.usage.calls == 4


def test_cost_budget_uses_model_prices() -> None:
    from graphmem.endpoint import ModelPrice

    price = {"test-model": ModelPrice(prompt=1000.0, completion=2000.0, cached=500.0)}
    with FakeOpenAI(script([ok(GOOD, usage=(100, 20, 40))])) as server:
        ex = extractor(server, concurrency=1, max_cost_budget=0.25, prices=price)
        results = ex.extract([passage(f"p{i}") for i in range(4)])
        ex.close()
    # one call: (60*1000 + 40*500 + 20*2000) / 1e6 = $0.12; the third crosses $0.25
    assert len(server.requests) == 3
    assert results[0].usage["cost_usd"] == pytest.approx(0.12)
    assert results[0].usage["cached_tokens"] == 40
    assert results[3].error is not None and "cost budget" in results[3].error


def test_concurrency_is_bounded_and_overlapping() -> None:
    with FakeOpenAI(script([ok(GOOD, delay=0.2)])) as server:
        ex = extractor(server, concurrency=3)
        results = ex.extract([passage(f"p{i}") for i in range(9)])
        ex.close()
    assert all(r.error is None for r in results)
    assert server.max_in_flight == 3


def test_two_step_makes_two_calls_per_passage() -> None:
    def respond(body: dict[str, Any], _n: int) -> Answer:
        system = body["messages"][0]["content"]
        if "extract named entities" in system:
            return ok('{"named_entities": ["Bled", "Slovenia"]}')
        return ok('{"triples": [["Bled", "located in", "Slovenia"]], "events": []}')

    with FakeOpenAI(respond) as server:
        ex = extractor(server, prompt="two_step")
        [result] = ex.extract([passage()])
        ex.close()
    assert len(server.requests) == 2
    assert '"Bled"' in server.requests[1]["messages"][-1]["content"]
    assert [e.name for e in result.entities] == ["Bled", "Slovenia"]
    assert len(result.facts) == 1 and result.usage["calls"] == 2
    assert ex.version != LLMExtractor("m", base_url=server.url).version


def test_question_entities() -> None:
    with FakeOpenAI(script([ok('{"named_entities": ["Bled", "1966"]}'), ok("nope")])) as server:
        ex = extractor(server)
        assert ex.question_entities("Who rowed at Bled in 1966?") == ["Bled", "1966"]
        # an unusable answer seeds nothing rather than failing the search
        assert ex.question_entities("Who?") == []
        ex.close()
    assert "Who rowed at Bled in 1966?" in server.requests[0]["messages"][-1]["content"]


def test_sync_extract_inside_a_running_loop_and_async_extract() -> None:
    with FakeOpenAI(script([ok(GOOD)])) as server:
        ex = extractor(server)

        async def main() -> tuple[int, int]:
            inside = ex.extract([passage("sync in loop")])
            direct = await ex.aextract([passage("async")])
            await ex.aclose()
            return len(inside[0].facts), len(direct[0].facts)

        assert asyncio.run(main()) == (2, 2)
        ex.close()
    assert len(server.requests) == 2


def test_server_without_response_format_falls_back_to_text() -> None:
    def respond(body: dict[str, Any], _n: int) -> Answer:
        if "response_format" in body:
            return status(400, message="unknown field response_format")
        return ok(GOOD)

    with FakeOpenAI(respond) as server:
        ex = extractor(server)
        [result] = ex.extract([passage()])
        ex.close()
    kinds = [r.get("response_format", {}).get("type", "text") for r in server.requests]
    assert kinds == ["json_schema", "json_object", "text"]
    assert result.error is None and ex.output_mode.value == "text"


def test_nothing_lost_failed_passages_are_retried_and_cached() -> None:
    """Through the real ingest and SQLite store: a failed passage is stored and marked, retried
    later, and a second ingest of the same text costs no call (the extraction cache)."""
    from graphmem.embed.openai import OpenAIEmbedder
    from graphmem.memory import Memory
    from graphmem.store.sqlite.store import SQLiteStore

    broken = {"on": True}

    def respond(body: dict[str, Any], _n: int) -> Answer:
        if broken["on"] and "flaky" in body["messages"][-1]["content"]:
            return status(500, message="overloaded")
        return ok(GOOD)

    docs = ["Bled is a town in Slovenia.", "A flaky passage about Bled and its lake."]
    with FakeOpenAI(respond) as server:
        ex = extractor(server, max_retries=1)
        embedder = OpenAIEmbedder("fake-embed", base_url=server.url)
        mem = Memory(SQLiteStore(":memory:"), embedder=embedder, extractor=ex)
        first = mem.add_many(docs)
        assert (first.passages_added, first.passages_failed) == (1, 1)
        failed = mem.store.failed_passages("default")
        assert [p.text for p in failed] == [docs[1]] and "HTTP 500" in (failed[0].error or "")
        assert first.usage["calls"] == 1 and first.usage["retries"] == 1

        broken["on"] = False
        retried = mem.retry_failed()
        assert (retried.passages_added, retried.passages_failed) == (1, 0)
        assert mem.store.failed_passages("default") == []
        calls = len(server.requests)

        again = mem.add_many(docs)
        assert again.passages_skipped == 2 and len(server.requests) == calls
        other = mem.add_many(docs, namespace="other")  # caches are per namespace (issue 21)
        assert other.extraction_cache_hits == 0 and other.extraction_calls == 2
        assert len(server.requests) > calls
        assert embedder.dim == 8 and embedder.usage["calls"] >= 1
        mem.close()
        ex.close()


def test_a_bad_request_is_not_blamed_on_the_format(logs: pytest.LogCaptureFixture) -> None:
    with FakeOpenAI(script([status(400, message="context length exceeded")])) as server:
        ex = extractor(server)
        [result] = ex.extract([passage()])
        ex.close()
    # json_schema, json_object and text all refused: the request was bad, not the format
    assert len(server.requests) == 3
    assert result.error is not None and "context length exceeded" in result.error
    assert ex.output_mode.value == "json_schema"
    assert "back to response_format=json_schema" in messages(logs)


def test_llamacpp_style_500_for_json_schema_is_a_format_refusal() -> None:
    """llama-cpp-python answers 500 (not 400) when response_format.type is json_schema."""

    def respond(body: dict[str, Any], _n: int) -> Answer:
        if body.get("response_format", {}).get("type") == "json_schema":
            return status(
                500,
                message="1 validation error: 'response_format', 'type': Input should be 'text' or 'json_object'",
            )
        return ok(GOOD)

    with FakeOpenAI(respond) as server:
        ex = extractor(server, concurrency=4)
        results = ex.extract([passage(f"p{i}") for i in range(4)])
        ex.close()
    assert all(r.error is None and r.usage["retries"] == 0 for r in results)
    kinds = [r.get("response_format", {}).get("type") for r in server.requests]
    assert kinds.count("json_object") == 4 and kinds.count("json_schema") <= 4


def test_entities_named_in_the_question_seed_retrieval() -> None:
    """Memory.search asks the LLM extractor which entities the question names; they seed PPR."""
    from graphmem.embed.openai import OpenAIEmbedder
    from graphmem.ids import entity_id
    from graphmem.memory import Memory
    from graphmem.retrieve.passages import PassageSearchSettings, retrieve
    from graphmem.store.sqlite.store import SQLiteStore

    facts = {"Bled": ["Bled", "located in", "Slovenia"], "Oslo": ["Oslo", "capital of", "Norway"]}

    def respond(body: dict[str, Any], _n: int) -> Answer:
        text = body["messages"][-1]["content"]
        if "?" in text:  # the question
            return ok('{"named_entities": ["Bled"]}')
        s, p, o = next(t for name, t in facts.items() if name in text)
        return ok(json.dumps({"named_entities": [s, o], "triples": [[s, p, o]], "events": []}))

    with FakeOpenAI(respond) as server:
        ex = extractor(server)
        mem = Memory(
            SQLiteStore(":memory:"),
            embedder=OpenAIEmbedder("e", base_url=server.url),
            extractor=ex,
            passage_search=PassageSearchSettings(fact_top_k=1),
        )
        mem.add_many(["Bled is a town in Slovenia.", "Oslo is the capital of Norway."])
        before = len(server.requests)
        result = mem.search("What is there to see in Bled?", k=2)
        asked = server.requests[before:]
        assert len(asked) == 1 and "What is there to see in Bled?" in str(asked[0]["messages"])
        assert result.passages and result.mode == "graph"

        bled = entity_id("default", "Bled")
        q = mem.embedder.embed(["What is there to see in Bled?"], kind="query")[0]
        settings = PassageSearchSettings(fact_top_k=1)
        plain = retrieve(mem.store, "default", q, 2, settings)
        named = retrieve(mem.store, "default", q, 2, settings, named=[bled])
        # one passage mentions Bled, so its seed weight grows by exactly named_weight
        assert named.seeds[bled] == pytest.approx(plain.seeds.get(bled, 0.0) + 1.0)
        assert named.node_scores[bled] > plain.node_scores.get(bled, 0.0)
        mem.close()
        ex.close()
