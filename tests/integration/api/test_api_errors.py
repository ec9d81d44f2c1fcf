"""Bad requests get a clear GraphQL error with the right code, and the server keeps serving."""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphmem.embed.local import LocalEmbedder
from graphmem.keys import KeyRing, create_key
from graphmem.memory import Memory
from graphmem_api.app import GraphmemApp, JsonFormatter
from graphmem_api.limits import Limits

from support.api import (
    anyio_backend,  # noqa: F401  (fixture)
    codes,
    demo_docs,
    gql,
    make_app,
    new_memory,
)

pytestmark = pytest.mark.anyio
SEARCH = "query($q: String!, $k: Int!) { search(question: $q, k: $k) { passages { score passage { id } } } }"


class ExplodingStore:
    """The real store, except that ``stats`` fails the way a broken disk would (a crash point)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def stats(self, namespace: str) -> Any:
        raise RuntimeError("disk I/O error at /srv/secret/graph.db (password=hunter2)")


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, embedder: LocalEmbedder
) -> Iterator[tuple[Memory, GraphmemApp, str]]:
    tmp = tmp_path_factory.mktemp("errors")
    keys = tmp / "keys.json"
    key = create_key(keys, ["default"], key_id="main")
    mem = new_memory(tmp / "graph.db", embedder, wrap=ExplodingStore)
    mem.add_many(demo_docs()[:8], batch_size=8)
    app = make_app(mem, keys=KeyRing.load(keys), limits=Limits(max_request_bytes=1024 * 1024))
    yield mem, app, key
    asyncio.run(app.shutdown())
    mem.close()


@pytest.fixture
async def client(served: tuple[Memory, GraphmemApp, str]) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"authorization": f"Bearer {served[2]}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(served[1]), base_url="http://t", headers=headers
    ) as c:
        yield c


async def still_serving(c: httpx.AsyncClient) -> None:
    _, body = await gql(c, SEARCH, {"q": "Who wrote The Glass Orchard?", "k": 2})
    assert "errors" not in body and len(body["data"]["search"]["passages"]) == 2, body


def the_code(body: dict[str, Any]) -> str:
    """The one code every error of ``body`` carries (each with a message)."""
    found = set(codes(body))
    assert len(found) == 1, body
    assert all(e["message"] for e in body["errors"]), body
    return found.pop()


async def test_malformed_requests_are_bad_requests(client: httpx.AsyncClient) -> None:
    for query in ("{ search(question: ", "query { }", "mutation { ingest }", "}{", ""):
        _, body = await gql(client, query)
        assert the_code(body) == "BAD_REQUEST", (query, body)
    for content, ctype in (
        (b"not json", "application/json"),
        (b"{}", "text/plain"),
        (b"[1,2]", "application/json"),
    ):
        r = await client.post("/graphql", content=content, headers={"content-type": ctype})
        assert r.status_code == 400 and the_code(r.json()) == "BAD_REQUEST", r.text
    r = await client.get("/graphql", params={"query": "{ viewer { keyId } }"})
    assert r.status_code >= 400 and the_code(r.json()) in ("BAD_REQUEST", "NOT_FOUND"), r.text
    r = await client.get("/nowhere")
    assert r.status_code == 404 and the_code(r.json()) == "NOT_FOUND"
    await still_serving(client)


async def test_unknown_fields_and_bad_arguments(client: httpx.AsyncClient) -> None:
    cases = [
        ("{ nope }", {}),
        ('{ search(question: "x") { nope } }', {}),
        ('{ search(question: "x", bogus: 1) { mode } }', {}),
        ("{ search { mode } }", {}),  # required argument missing
        (SEARCH, {"q": "x", "k": "five"}),  # wrong variable type
        (SEARCH, {"q": "x", "k": 10**12}),  # not a 32-bit Int
        (SEARCH, {"q": "   ", "k": 2}),  # empty question
        (SEARCH, {"q": "x", "k": 0}),
        ('{ stats(namespace: "no spaces allowed") { passages } }', {}),
        ('{ entity(id: "e:1", name: "both") { id } }', {}),
        ('query($t: DateTime) { search(question: "x", asOf: $t) { mode } }', {"t": "not a date"}),
    ]
    for query, variables in cases:
        _, body = await gql(client, query, variables)
        assert the_code(body) == "BAD_REQUEST", (query, body)
    await still_serving(client)


async def test_limits_answer_limit_exceeded(client: httpx.AsyncClient) -> None:
    # 10 MB question: refused before it is read (the request-size limit)
    huge = "why " * (10 * 1024 * 1024 // 4)
    r = await client.post("/graphql", json={"query": SEARCH, "variables": {"q": huge, "k": 2}})
    assert r.status_code == 413 and the_code(r.json()) == "LIMIT_EXCEEDED"
    assert "byte limit" in r.json()["errors"][0]["message"]

    # streamed without a length: the limit holds too
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ viewer { keyId } }", "pad": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    r = await client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and the_code(r.json()) == "LIMIT_EXCEEDED"

    _, body = await gql(
        client, SEARCH, {"q": "why " * 5000, "k": 2}
    )  # fits the body, not the question
    assert the_code(body) == "LIMIT_EXCEEDED" and "characters" in body["errors"][0]["message"]
    _, body = await gql(client, SEARCH, {"q": "x", "k": 10**9})
    assert (
        the_code(body) == "LIMIT_EXCEEDED" and "k must be at most" in body["errors"][0]["message"]
    )
    _, body = await gql(client, '{ neighbors(id: "e:1", depth: 50) { totalCount } }')
    assert the_code(body) == "LIMIT_EXCEEDED" and "depth" in body["errors"][0]["message"]
    _, body = await gql(client, '{ neighbors(id: "e:1", first: 100000) { totalCount } }')
    assert the_code(body) == "LIMIT_EXCEEDED" and "first" in body["errors"][0]["message"]

    # an operation 50 levels deep
    inner = "totalCount"
    for _ in range(24):
        inner = f"edges {{ node {{ neighbors {{ {inner} }} }} }}"
    _, body = await gql(client, f'{{ neighbors(id: "e:1") {{ {inner} }} }}')
    assert the_code(body) == "LIMIT_EXCEEDED" and "depth" in body["errors"][0]["message"]

    aliases = " ".join(f"a{i}: viewer {{ keyId }}" for i in range(40))
    _, body = await gql(client, f"{{ {aliases} }}")
    assert the_code(body) == "LIMIT_EXCEEDED"

    tokens = " ".join("keyId" for _ in range(5000))
    _, body = await gql(client, f"{{ viewer {{ {tokens} }} }}")
    assert the_code(body) == "LIMIT_EXCEEDED"

    # shallow but wide: 100 neighbours, each with 100 neighbours, each with 100...
    wide = '{ neighbors(id: "e:1", first: 100) { edges { node { neighbors(first: 100) { edges { node { neighbors(first: 100) { edges { id } } } } } } } } }'
    _, body = await gql(client, wide)
    assert the_code(body) == "LIMIT_EXCEEDED" and "complex" in body["errors"][0]["message"]
    await still_serving(client)


async def test_invalid_cursors_and_unknown_ids(
    served: tuple[Memory, GraphmemApp, str], client: httpx.AsyncClient
) -> None:
    mem = served[0]
    hit = mem.search("Who wrote The Glass Orchard?", k=1)
    eid, other = hit.entities[0].entity.id, hit.entities[-1].entity.id
    query = "query($id: ID!, $after: String) { neighbors(id: $id, first: 1, after: $after) { pageInfo { endCursor } } }"
    _, body = await gql(client, query, {"id": eid})
    good = body["data"]["neighbors"]["pageInfo"]["endCursor"]
    forged = base64.urlsafe_b64encode(json.dumps(["x", 1, 0.5, "e:1", "k"]).encode()).decode()
    for cursor in ("garbage", "!!!", "", forged, good[:-3], "A" * 10000):
        _, body = await gql(client, query, {"id": eid, "after": cursor})
        assert the_code(body) == "BAD_REQUEST" and "cursor" in body["errors"][0]["message"], cursor
    if other != eid:  # a cursor belongs to the walk it came from
        _, body = await gql(client, query, {"id": other, "after": good})
        assert the_code(body) == "BAD_REQUEST"
    for query, var in (
        ("query($id: ID!) { neighbors(id: $id) { totalCount } }", "e:unknown"),
        ("query($id: ID!) { job(id: $id) { status } }", "no-such-job"),
        ("query($id: ID!) { passage(id: $id) { id } }", "p:unknown"),
    ):
        _, body = await gql(client, query, {"id": var})
        assert the_code(body) == "NOT_FOUND", body
    await still_serving(client)


async def test_wrong_or_missing_key(served: tuple[Memory, GraphmemApp, str]) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(served[1]), base_url="http://t"
    ) as c:
        for headers in (
            {},
            {"authorization": "Bearer nope"},
            {"x-api-key": served[2] + "x"},
            {"authorization": "Basic " + served[2]},
        ):
            r = await c.post("/graphql", json={"query": "{ viewer { keyId } }"}, headers=headers)
            assert r.status_code == 401 and the_code(r.json()) == "UNAUTHENTICATED"
        r = await c.post(
            "/graphql", json={"query": "{ viewer { keyId } }"}, headers={"x-api-key": served[2]}
        )
        assert r.json()["data"]["viewer"]["keyId"] == "main"
        _, body = await gql(c, '{ stats(namespace: "elsewhere") { passages } }', key=served[2])
        assert the_code(body) == "FORBIDDEN"


async def test_unexpected_failures_are_masked(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("ERROR", logger="graphmem_api")
    _, body = await gql(client, "{ stats { passages } }")
    assert the_code(body) == "INTERNAL"
    message = body["errors"][0]["message"]
    assert "secret" not in json.dumps(body) and "hunter2" not in json.dumps(body)
    ref = body["errors"][0]["extensions"]["reference"]
    assert ref in message
    assert any(ref in r.getMessage() and r.exc_info for r in caplog.records)  # the log has it all
    await still_serving(client)


async def test_features_the_memory_may_lack_say_so(
    served: tuple[Memory, GraphmemApp, str], client: httpx.AsyncClient
) -> None:
    mem = served[0]
    query = """mutation { addEpisode(text: "I moved to Paris.", speaker: "Alice", session: "s1",
                                     time: "2024-03-01T10:00:00Z") { episodesAdded } }"""
    _, body = await gql(client, query)
    if hasattr(mem, "add_episode"):
        assert body["data"]["addEpisode"]["episodesAdded"] == 1, body
        _, body = await gql(client, query)  # the same turn again: nothing new
        assert body["data"]["addEpisode"]["episodesAdded"] == 0, body
    else:
        assert the_code(body) == "NOT_IMPLEMENTED"
        assert "episodic memory" in body["errors"][0]["message"]
    _, body = await gql(client, 'mutation { addEpisode(text: "  ") { episodesAdded } }')
    assert the_code(body) in ("BAD_REQUEST", "NOT_IMPLEMENTED")

    query = """query { search(question: "Who wrote The Glass Orchard?", asOf: "2020-01-01T00:00:00Z",
                              between: {start: "2019-01-01T00:00:00Z"}) { mode } }"""
    _, body = await gql(client, query)
    params = inspect.signature(mem.search).parameters
    if "as_of" in params and "between" in params:
        assert "errors" not in body, body
    else:
        assert the_code(body) == "NOT_IMPLEMENTED"


async def test_health_readiness_graphiql_and_access_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, embedder: LocalEmbedder
) -> None:
    caplog.set_level("INFO", logger="graphmem_api.access")
    mem = new_memory(tmp_path / "g.db", embedder)
    app = make_app(mem, graphiql=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        assert (await c.get("/healthz")).json() == {"status": "ok"}
        r = await c.post(
            "/graphql", json={"query": "{ stats { passages } }"}, headers={"x-request-id": "req-42"}
        )
        assert r.headers["x-request-id"] == "req-42"
        line = json.loads(JsonFormatter().format(caplog.records[-1]))
        assert (
            line["request_id"] == "req-42" and line["path"] == "/graphql" and line["status"] == 200
        )
        assert line["bytes_in"] > 0 and line["bytes_out"] == len(r.content) and line["ms"] >= 0
        r = await c.get("/graphql", headers={"accept": "text/html"})
        assert r.status_code == 200 and "graphiql" in r.text.lower()
        r = await c.get("/readyz")
        assert r.status_code == 200 and r.json()["status"] == "ready"
        assert r.headers["x-request-id"]
        await app.shutdown()
        r = await c.get("/readyz")
        assert r.status_code == 503 and r.json()["status"] == "stopped"
        r = await c.post("/graphql", json={"query": "{ viewer { keyId } }"})
        assert r.status_code == 503 and the_code(r.json()) == "UNAVAILABLE"
    closed = make_app(mem, explorer=False)  # GraphiQL and the explorer off: no pages
    async with httpx.AsyncClient(transport=httpx.ASGITransport(closed), base_url="http://t") as c:
        r = await c.get("/graphql", headers={"accept": "text/html"})
        assert r.status_code == 404 and the_code(r.json()) == "NOT_FOUND"
        assert (await c.get("/explore")).status_code == 404
    shown = make_app(mem)  # the explorer is on by default (static files, no data)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(shown), base_url="http://t") as c:
        r = await c.get("/explore")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    await closed.shutdown()
    await shown.shutdown()
    mem.close()
