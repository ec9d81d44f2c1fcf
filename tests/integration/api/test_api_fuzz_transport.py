"""Fuzz what the schema fuzz never sends (issue 21): malformed bodies and protocols, bounded.

Against a real server on 127.0.0.1 (uvicorn, a real SQLite store, the hash embedder): bodies
that are any JSON value, not UTF-8, of the wrong content type, with fields of the wrong types,
nested or long up to (and past) the limits; subscriptions over POST and GET; and websocket
sessions on both subprotocols (``graphql-transport-ws`` and the legacy ``graphql-ws``) carrying
arbitrary messages. A client mistake must never be a 5xx, an ``INTERNAL`` code, a websocket
dropped without a close code (or with 1011), or an error in the server's log. The examples are
derandomized and bounded (``max_examples``), so the module runs in well under a minute.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphmem.memory import Memory
from graphmem_api.errors import CODES
from graphmem_api.server import build_app

from support.api import HashEmbedder, Served

#: bounded: a fixed number of examples each, none allowed more than 10 s (a generous bound on a
#: busy 2-core machine; an example that hangs fails instead of stalling the suite)
FUZZ = dict(
    deadline=timedelta(seconds=10),
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
FIELDS = ["stats { passages }", "viewer { keyId }", 'search(question: "Ada", k: 2) { mode }']
SUBSCRIBE = 'subscription { jobProgress(id: "nope") { id status } }'


class Errors(logging.Handler):
    """Every ERROR record logged while the server runs (a crash in strawberry or uvicorn)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Errors]]:
    path = tmp_path_factory.mktemp("fuzz-transport") / "g.db"
    mem = Memory(f"sqlite:///{path}", embedder=HashEmbedder(), extractor=None)  # type: ignore[arg-type]
    mem.add_many([{"text": "Ada Lovelace wrote the first program.", "source": "ada"}])
    errors = Errors()
    logging.getLogger().addHandler(errors)
    try:
        with Served(build_app(memory=mem, access_log=False, warm_up=False)) as srv:
            yield srv, errors
    finally:
        logging.getLogger().removeHandler(errors)
        mem.close()


@pytest.fixture(scope="module")
def http(served: tuple[Served, Errors]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0].url, timeout=60) as client:
        yield client


def check_http(r: httpx.Response) -> None:
    assert r.status_code < 500, (r.status_code, r.text[:500])
    body = r.json()  # every answer is JSON, errors included
    assert isinstance(body, dict), body
    for error in body.get("errors") or []:
        code = error.get("extensions", {}).get("code")
        assert code in CODES and code != "INTERNAL", error


def no_server_errors(errors: Errors) -> None:
    found = [f"{r.name}: {r.getMessage()}" for r in errors.records]
    errors.records.clear()
    assert found == [], found


# -------------------------------------------------------------------------------- bodies

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
#: an object shaped like a request, each field of any type (or a plausible one)
requests = st.fixed_dictionaries(
    {},
    optional={
        "query": st.sampled_from(["{ " + f + " }" for f in FIELDS] + [SUBSCRIBE, "{", ""])
        | json_values,
        "variables": json_values,
        "operationName": json_values,
        "extensions": json_values,
    },
)
nested = st.integers(1, 200).map(lambda n: "[" * n + "]" * n)  # past max_json_depth (64)
deep_query = st.integers(1, 60).map(lambda n: "{ " + "search { " * n + "mode" + " }" * (n + 1))
aliases = st.integers(1, 400).map(
    lambda n: "{ " + " ".join(f"a{i}: stats {{ passages }}" for i in range(n)) + " }"
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    requests.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),  # mostly not UTF-8, not JSON
    nested.map(str.encode),
    (deep_query | aliases).map(lambda q: json.dumps({"query": q}).encode()),
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=latin-1",
        "text/plain",
        "application/graphql",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "multipart/mixed",
        "",
    ]
)


@settings(max_examples=500, **FUZZ)
@given(body=bodies, content_type=content_types)
def test_fuzz_bodies_and_content_types(
    served: tuple[Served, Errors], http: httpx.Client, body: bytes, content_type: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    check_http(http.post("/graphql", content=body, headers=headers))


@settings(max_examples=120, **FUZZ)
@given(
    query=st.sampled_from([SUBSCRIBE, "{ stats { passages } }", "mutation { x }", "{"])
    | st.text(max_size=40),
    variables=st.none() | json_values.map(json.dumps) | st.text(max_size=10),
    accept=st.sampled_from(["", "text/html", 'multipart/mixed;subscriptionSpec="1.0"']),
)
def test_fuzz_get_and_subscriptions_over_http(
    served: tuple[Served, Errors],
    http: httpx.Client,
    query: str,
    variables: str | None,
    accept: str,
) -> None:
    params = {"query": query, **({"variables": variables} if variables is not None else {})}
    headers = {"accept": accept} if accept else {}
    r = http.get("/graphql", params=params, headers=headers)
    if r.headers.get("content-type", "").startswith("text/html"):
        return  # GraphiQL's page (off here, but a page is not a failure)
    check_http(r)
    check_http(http.post("/graphql", json={"query": query}, headers=headers))


def test_a_huge_body_is_limit_exceeded(served: tuple[Served, Errors], http: httpx.Client) -> None:
    big = json.dumps({"query": "{ stats { passages } }", "variables": {"x": "a" * 9_000_000}})
    r = http.post("/graphql", content=big.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 413, r.text
    check_http(r)


# ----------------------------------------------------------------------------- websockets

ids = st.text(max_size=4) | json_values
payloads = st.fixed_dictionaries(
    {},
    optional={
        "query": st.sampled_from(["{ stats { passages } }", SUBSCRIBE, "{"]) | json_values,
        "variables": json_values,
        "operationName": json_values,
    },
)
messages = st.one_of(
    json_values.map(json.dumps),
    st.text(max_size=30),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["start", "subscribe", "stop", "complete", "ping", "pong"])},
        optional={"id": ids, "payload": payloads | json_values},
    ).map(json.dumps),
)


async def _session(url: str, protocol: str, fuzzed: list[str]) -> list[Any]:
    """Init, the fuzzed messages, then a probe proving the socket still works (a pong, or the
    end of a known subscription); what came back, ending with ("closed", code) if it closed."""
    got: list[Any] = []
    probe = (
        {"type": "ping"}
        if protocol == "graphql-transport-ws"
        else {"type": "start", "id": "probe", "payload": {"query": SUBSCRIBE}}
    )
    async with websockets.connect(url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        try:
            for m in [*fuzzed, json.dumps(probe)]:
                await ws.send(m)
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                got.append(message)
                if message.get("type") == "pong" or (
                    message.get("type") == "complete" and message.get("id") == "probe"
                ):
                    return got
        except websockets.ConnectionClosed as closed:
            got.append(("closed", closed.rcvd.code if closed.rcvd else None))
    return got


def _error_codes(message: Any) -> list[Any]:
    if not isinstance(message, dict):
        return []
    payload = message.get("payload")
    errors = payload if isinstance(payload, list) else (payload or {}).get("errors") or []
    if message.get("type") == "error" and isinstance(payload, dict) and "errors" not in payload:
        errors = [payload]
    return [e.get("extensions", {}).get("code") for e in errors if isinstance(e, dict)]


@settings(max_examples=150, **FUZZ)
@given(
    protocol=st.sampled_from(["graphql-transport-ws", "graphql-ws"]),
    fuzzed=st.lists(messages, min_size=1, max_size=3),
)
def test_fuzz_websocket_messages(
    served: tuple[Served, Errors], protocol: str, fuzzed: list[str]
) -> None:
    url = f"ws://127.0.0.1:{served[0].port}/graphql"
    got = asyncio.run(_session(url, protocol, fuzzed))
    assert got, "no answer and no close"
    last = got[-1]
    if isinstance(last, tuple):  # closed: on purpose, with a code that says why
        assert last[1] is not None and last[1] not in (1006, 1011), got
    for message in got:
        for code in _error_codes(message):
            assert code in CODES and code != "INTERNAL", message


def test_no_server_errors_after_fuzzing(served: tuple[Served, Errors], http: httpx.Client) -> None:
    no_server_errors(served[1])
    r = http.post("/graphql", json={"query": '{ search(question: "Ada", k: 1) { mode } }'})
    assert r.status_code == 200 and "errors" not in r.json(), r.text
