"""Client mistakes in the transport are 400s with a clear message, never INTERNAL (issue 21 §5).

A JSON body that is not an object, a subscription sent as a plain POST, a query over the legacy
``graphql-ws`` websocket protocol, a malformed websocket message, and episode times at the
calendar's ends (year 1, year 9999). A real server on 127.0.0.1 (websockets need a socket) over
a real SQLite store; the hash embedder, as none of this depends on the model.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from graphmem.memory import Memory
from graphmem_api.server import build_app

from support.api import HashEmbedder, Served, codes

SUBSCRIBE = "subscription($id: ID!) { jobProgress(id: $id) { id status } }"
STATS = "{ stats { passages episodes } }"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Memory, Served]]:
    path = tmp_path_factory.mktemp("protocols") / "g.db"
    mem = Memory(f"sqlite:///{path}", embedder=HashEmbedder(), extractor=None)  # type: ignore[arg-type]
    app = build_app(memory=mem, access_log=False)
    with Served(app) as srv:
        yield mem, srv
    mem.close()


def post(srv: Served, body: bytes | dict[str, Any], **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers.setdefault("content-type", "application/json")
    return httpx.post(f"{srv.url}/graphql", content=content, headers=headers, timeout=60)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"null", "null"),
        (b"1", "a number"),
        (b'"q"', "a string"),
        (b"true", "a boolean"),
        (b"[]", "an array"),
        (b'[{"query": "{ stats { passages } }"}]', "an array"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_bad_request(
    served: tuple[Memory, Served], body: bytes, kind: str
) -> None:
    r = post(served[1], body)
    assert r.status_code == 400, r.text
    assert codes(r.json()) == ["BAD_REQUEST"]
    message = r.json()["errors"][0]["message"]
    assert "must be a JSON object" in message and f"got {kind}" in message


def test_a_subscription_over_post_or_get_is_a_bad_request(served: tuple[Memory, Served]) -> None:
    srv = served[1]
    for r in (
        post(srv, {"query": SUBSCRIBE, "variables": {"id": "j1"}}),
        httpx.get(
            f"{srv.url}/graphql",
            params={"query": SUBSCRIBE, "variables": '{"id": "j1"}'},
            timeout=60,
        ),
    ):
        assert r.status_code == 400, r.text
        assert codes(r.json()) == ["BAD_REQUEST"]
        assert "websocket" in r.json()["errors"][0]["message"]
    ok = post(srv, {"query": STATS})  # a query over POST still works
    assert ok.status_code == 200 and "errors" not in ok.json(), ok.text


async def _session(url: str, protocol: str, messages: list[Any], *, wait: float = 3) -> list[Any]:
    """Send ``messages`` after connection_init; what comes back until the socket closes or
    ``wait`` seconds pass quietly (a close is the last item: ("closed", code, reason))."""
    got: list[Any] = []
    async with websockets.connect(url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        for m in messages:
            await ws.send(m if isinstance(m, str) else json.dumps(m))
        try:
            while True:
                got.append(json.loads(await asyncio.wait_for(ws.recv(), wait)))
        except websockets.ConnectionClosed as closed:
            rcvd = closed.rcvd
            got.append(("closed", rcvd.code if rcvd else None, rcvd.reason if rcvd else ""))
        except TimeoutError:
            pass
    return got


def test_a_query_over_legacy_graphql_ws_is_refused_cleanly(
    served: tuple[Memory, Served],
) -> None:
    url = f"ws://127.0.0.1:{served[1].port}/graphql"
    start = {"type": "start", "id": "1", "payload": {"query": STATS}}
    got = asyncio.run(_session(url, "graphql-ws", [start]))
    assert got[0]["type"] == "error" and got[0]["id"] == "1", got
    assert got[0]["payload"]["extensions"]["code"] == "BAD_REQUEST"
    assert "subscriptions only" in got[0]["payload"]["message"]
    # the legacy protocol still carries subscriptions: an unknown job is NOT_FOUND, not INTERNAL
    sub = {"type": "start", "id": "2", "payload": {"query": SUBSCRIBE, "variables": {"id": "x"}}}
    got = asyncio.run(_session(url, "graphql-ws", [sub]))
    assert got[0]["type"] == "data"
    assert [e["extensions"]["code"] for e in got[0]["payload"]["errors"]] == ["NOT_FOUND"]
    # and the modern protocol serves the query
    tws = {"type": "subscribe", "id": "3", "payload": {"query": STATS}}
    got = asyncio.run(_session(url, "graphql-transport-ws", [tws]))
    assert got[0]["type"] == "next" and "stats" in got[0]["payload"]["data"], got


@pytest.mark.parametrize("protocol", ["graphql-ws", "graphql-transport-ws"])
@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("null", "JSON object"),
        ("{not json", "valid JSON"),
        ({"type": "start", "id": "1"}, "payload"),
        ({"type": "subscribe", "id": "1", "payload": {}}, "payload.query"),
        ({"type": "start", "payload": {"query": STATS}}, "string id"),
        (
            {"type": "subscribe", "id": "1", "payload": {"query": STATS, "variables": [1]}},
            "variables",
        ),
    ],
)
def test_a_malformed_websocket_message_closes_with_4400(
    served: tuple[Memory, Served], protocol: str, message: Any, reason: str
) -> None:
    url = f"ws://127.0.0.1:{served[1].port}/graphql"
    got = asyncio.run(_session(url, protocol, [message]))
    assert got and got[-1][0] == "closed", got
    assert got[-1][1] == 4400 and reason in got[-1][2], got


EDGES = [
    ("0001-01-01T00:00:00Z", "We went hiking last weekend."),
    ("9999-12-31T00:00:00Z", "Let's travel next summer."),
    ("9999-12-31T23:00:00-05:00", "See you tomorrow, and next month too."),
    ("0001-01-01T00:00:00+05:00", "I met Bo yesterday, a few days ago."),
]
ADD = (
    "mutation($t: String!, $when: DateTime) "
    '{ addEpisode(text: $t, time: $when, session: "edges") { episodesAdded } }'
)
SEARCH = (
    "query($q: String!, $at: DateTime) "
    "{ search(question: $q, k: 3, asOf: $at) { episodes { episode { text } } } }"
)


def test_episode_times_at_the_calendar_ends_are_stored_and_searched(
    served: tuple[Memory, Served],
) -> None:
    srv = served[1]
    for when, text in EDGES:
        r = post(srv, {"query": ADD, "variables": {"t": text, "when": when}})
        assert r.status_code == 200 and "errors" not in r.json(), r.text
        assert r.json()["data"]["addEpisode"]["episodesAdded"] == 1
    for at in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"):
        for q in ("What did I do last weekend?", "Where do I go next summer?", "in December?"):
            r = post(srv, {"query": SEARCH, "variables": {"q": q, "at": at}})
            assert r.status_code == 200 and "errors" not in r.json(), r.text


def test_an_ingest_job_at_the_calendar_ends_stores_every_document(
    served: tuple[Memory, Served],
) -> None:
    srv = served[1]
    docs = [
        {"text": f"Ada Lovelace moved to Paris {e}. Record {i}.", "time": when, "source": f"e/{i}"}
        for i, (when, e) in enumerate(
            [
                ("0001-01-01T00:00:00Z", "last weekend"),
                ("9999-12-31T00:00:00Z", "next summer"),
                ("2024-05-01T00:00:00Z", "last week"),
            ]
        )
    ]
    ingest = "mutation($d: [DocumentInput!]!) { ingest(documents: $d) { id } }"
    r = post(srv, {"query": ingest, "variables": {"d": docs}})
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    job_id = r.json()["data"]["ingest"]["id"]
    query = "query($id: ID!) { job(id: $id) { status error { code } rejected { index } } }"
    deadline = time.monotonic() + 120
    while True:
        job = post(srv, {"query": query, "variables": {"id": job_id}}).json()["data"]["job"]
        if job["status"] in ("SUCCEEDED", "FAILED") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert job == {"status": "SUCCEEDED", "error": None, "rejected": []}, job


def test_the_library_stores_every_episode_of_a_batch_at_the_calendar_ends(tmp_path: Path) -> None:
    mem = Memory(f"sqlite:///{tmp_path / 'g.db'}", embedder=HashEmbedder(), extractor=None)  # type: ignore[arg-type]
    items = [{"text": text, "time": when, "session": "s"} for when, text in EDGES]
    items.append({"text": "An ordinary turn.", "time": "2024-01-01T10:00:00Z", "session": "s"})
    report = mem.add_episodes(items)
    assert report.episodes_added == len(items)
    assert mem.stats().episodes == len(items)
    mem.close()
