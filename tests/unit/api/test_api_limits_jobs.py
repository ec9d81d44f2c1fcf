"""Complexity limits, the job runner, and the client core's parsing and error mapping."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from graphmem.client.core import ClientCore, error_for, parse, selection
from graphmem.errors import (
    ConnectionFailed,
    InputError,
    LimitExceeded,
    NotFound,
    RemoteError,
    RemoteInputError,
    RemoteNotFound,
)
from graphmem.models import (
    Entity,
    Fact,
    FactHit,
    IngestReport,
    Passage,
    PassageHit,
    SearchResult,
    add_reports,
)
from graphmem_api.errors import APIError
from graphmem_api.jobs import JobRunner, JobStatus
from graphmem_api.limits import Limits
from graphmem_api.schema import build_schema


def _codes(query: str, variables: dict[str, Any] | None = None, **limits: Any) -> list[str]:
    schema = build_schema(Limits(**limits))
    result = asyncio.run(schema.execute(query, variable_values=variables))
    return [e.extensions["code"] for e in result.errors or []]  # type: ignore[index]


def test_complexity_multiplies_page_sizes_and_reads_variables() -> None:
    nested = (
        'query($k: Int!) { search(question: "q", k: $k) { passages { score facts { score } } } }'
    )
    assert "LIMIT_EXCEEDED" in _codes(nested, {"k": 100}, max_complexity=200)
    assert "LIMIT_EXCEEDED" not in _codes(nested, {"k": 3}, max_complexity=200)
    wide = '{ neighbors(id: "e:1", first: 100) { edges { node { neighbors(first: 100) { totalCount } } } } }'
    assert _codes(wide, max_complexity=5_000) == ["LIMIT_EXCEEDED"]  # ~100 x 100 fields
    narrow = '{ neighbors(id: "e:1", first: 2) { edges { node { neighbors(first: 2) { totalCount } } } } }'
    assert "LIMIT_EXCEEDED" not in _codes(narrow, max_complexity=5_000)


def test_depth_and_alias_limits_are_coded() -> None:
    assert _codes("{ viewer { keyId } }", max_depth=0) == ["LIMIT_EXCEEDED"]
    assert _codes("{ a: viewer { keyId } b: viewer { keyId } }", max_aliases=1) == [
        "LIMIT_EXCEEDED"
    ]
    assert _codes("{ viewer { keyId keyId keyId keyId } }", max_tokens=5) == ["LIMIT_EXCEEDED"]
    assert _codes("query { }") == ["BAD_REQUEST"]  # a document the limiters cannot even walk


def test_job_runner_progress_errors_and_shutdown() -> None:
    gate = threading.Event()

    def run(job: Any) -> IngestReport:
        if job.payload == "bad":
            raise InputError("document 3 is empty", field="documents[3]")
        if job.payload == "crash":
            raise RuntimeError("secret internals")
        if job.payload == "slow":
            gate.wait(5)
        job.add_progress(job.total)
        return IngestReport(passages_added=job.total)

    runner = JobRunner(run, max_queued=2)
    ok = runner.submit("ns", "fine", total=3)
    assert runner.wait(ok.id, timeout=5).status is JobStatus.SUCCEEDED
    assert ok.done == 3 and ok.progress == 1.0 and ok.report == IngestReport(passages_added=3)

    bad = runner.wait(runner.submit("ns", "bad", total=1).id, timeout=5)
    assert (
        bad.status is JobStatus.FAILED
        and bad.error_code == "BAD_REQUEST"
        and "documents[3]" in bad.error
    )
    crash = runner.wait(runner.submit("ns", "crash", total=1).id, timeout=5)
    assert crash.error_code == "INTERNAL" and "secret" not in (crash.error or "")

    slow = runner.submit("ns", "slow", total=1)
    while slow.status is not JobStatus.RUNNING:
        time.sleep(0.01)
    queued = [runner.submit("ns", "fine", total=1) for _ in range(2)]
    with pytest.raises(APIError) as full:
        runner.submit("ns", "fine", total=1)
    assert full.value.code == "LIMIT_EXCEEDED"

    threading.Timer(0.3, gate.set).start()
    assert runner.shutdown(timeout=10)  # waits for the running job and the queued ones
    assert slow.status is JobStatus.SUCCEEDED
    assert all(j.status is JobStatus.SUCCEEDED for j in queued)
    with pytest.raises(APIError) as late:
        runner.submit("ns", "fine", total=1)
    assert late.value.code == "UNAVAILABLE"


def test_shutdown_cancels_what_it_cannot_wait_for() -> None:
    gate = threading.Event()
    runner = JobRunner(lambda job: gate.wait(5) and IngestReport())
    running = runner.submit("ns", None, total=1)
    waiting = runner.submit("ns", None, total=1)
    while running.status is not JobStatus.RUNNING:
        time.sleep(0.01)
    assert not runner.shutdown(timeout=0.2)
    assert waiting.status is JobStatus.CANCELLED and waiting.error_code == "UNAVAILABLE"
    gate.set()


def test_job_reports_add_counts_and_usage() -> None:
    a = IngestReport(passages_added=2, usage={"calls": 1.0}, seconds=1.5)
    b = IngestReport(passages_added=3, passages_skipped=1, usage={"calls": 2.0, "tokens": 5.0})
    m = add_reports(a, b)
    assert (m.passages_added, m.passages_skipped, m.seconds) == (5, 1, 1.5)
    assert m.usage == {"calls": 3.0, "tokens": 5.0}


def test_client_core_round_trips_models() -> None:
    fact = Fact(id="f:1", subject="e:1", predicate="born in", object="e:2", text="A born in B")
    passage = Passage(id="p:1", text="A was born in B.", metadata={"some_key": {"innerKey": 1}})
    result = SearchResult(
        question="q",
        passages=[
            PassageHit(
                passage=passage,
                score=0.5,
                facts=[FactHit(fact=fact, score=1.0, subject_name="A", object_name="B")],
            )
        ],
        timings_ms={"embed_ms": 1.0},
    )

    def camelize(data: Any) -> Any:  # what the server would send: camelCase keys, JSON untouched
        from graphmem.client.core import camel

        if isinstance(data, dict):
            return {
                camel(k): (v if k in ("metadata", "timings_ms", "usage") else camelize(v))
                for k, v in data.items()
            }
        if isinstance(data, list):
            return [camelize(v) for v in data]
        return data

    wire = camelize(result.model_dump(mode="json"))
    assert parse(SearchResult, wire) == result  # JSON fields keep their own keys
    assert "denseScore" in selection(SearchResult) and "subjectName" in selection(SearchResult)
    assert (
        parse(
            Entity, camelize(Entity(id="e:1", name="A", normalized="a").model_dump(mode="json"))
        ).name
        == "A"
    )


def test_client_core_maps_errors() -> None:
    assert isinstance(error_for("BAD_REQUEST", "x"), InputError)
    assert isinstance(error_for("LIMIT_EXCEEDED", "x"), LimitExceeded)
    assert isinstance(error_for("LIMIT_EXCEEDED", "x"), InputError)
    assert isinstance(error_for("NOT_FOUND", "x"), NotFound)
    assert isinstance(error_for("NOT_FOUND", "x"), RemoteNotFound)
    odd = error_for("SOMETHING_NEW", "x")
    assert type(odd) is RemoteError and odd.code == "SOMETHING_NEW"
    core = ClientCore("http://h:1")
    assert core.url == "http://h:1/graphql"
    with pytest.raises(RemoteInputError) as err:
        core.decode(400, b'{"errors": [{"message": "bad", "extensions": {"code": "BAD_REQUEST"}}]}')
    assert err.value.code == "BAD_REQUEST" and err.value.errors[0]["message"] == "bad"
    with pytest.raises(ConnectionFailed):
        core.decode(502, b"<html>Bad Gateway</html>")
