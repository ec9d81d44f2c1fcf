"""Client and AsyncClient: in process over ASGI, against uvicorn in a thread, and `serve` itself."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

import graphmem
from graphmem.client import (
    AsyncClient,
    AuthenticationFailed,
    Client,
    LimitExceeded,
    PermissionDenied,
)
from graphmem.embed.local import LocalEmbedder
from graphmem.errors import ConnectionFailed, InputError
from graphmem.keys import KeyRing, create_key
from graphmem.memory import Memory
from graphmem.models import IngestReport, SearchResult
from graphmem_api.app import GraphmemApp
from graphmem_api.server import build_app, make_server

from support.api import (
    anyio_backend,  # noqa: F401  (fixture)
    demo_docs,
    demo_questions,
    make_app,
    new_memory,
    synthetic_docs,
)

ROOT = Path(__file__).resolve().parents[3]


def same_search(a: SearchResult, b: SearchResult) -> bool:
    return a.model_dump(exclude={"timings_ms"}) == b.model_dump(exclude={"timings_ms"})


def counts(report: IngestReport) -> tuple[int, ...]:
    return (
        report.passages_added,
        report.passages_skipped,
        report.entities_added,
        report.facts_added,
    )


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, embedder: LocalEmbedder
) -> Iterator[tuple[Memory, GraphmemApp]]:
    mem = new_memory(tmp_path_factory.mktemp("client") / "graph.db", embedder)
    mem.add_many(demo_docs(), batch_size=16)
    app = make_app(mem)
    yield mem, app
    asyncio.run(app.shutdown())
    mem.close()


def test_client_reads_answer_what_memory_answers(served: tuple[Memory, GraphmemApp]) -> None:
    mem, app = served
    with graphmem.Client("http://test", transport=httpx.ASGITransport(app)) as client:
        for question in demo_questions()[:3]:
            assert same_search(client.search(question, k=4), mem.search(question, k=4))
        hit = mem.search(demo_questions()[0], k=2)
        entity = hit.entities[0].entity
        assert client.get_entity(entity.name) == entity == client.get_entity(entity.id)
        assert client.get_entity("Nobody At All") is None
        pid = hit.passages[0].passage.id
        assert client.get_passage(pid) == mem.get_passage(pid)
        assert client.get_passage("p:none") is None
        assert client.stats() == mem.stats()

        want = mem.neighbors(entity.id, limit=1000)

        def key(n: Any) -> tuple[Any, ...]:
            return (n.id, n.kind, n.label, n.edge_type, n.weight, n.direction)

        assert sorted(map(key, client.neighbors(entity.id, limit=1000))) == sorted(map(key, want))
        top = client.neighbors(entity.id, limit=2)
        assert [(-n.weight, n.id) for n in top] == [(-n.weight, n.id) for n in want[:2]]
        assert client.neighbors("e:unknown") == mem.neighbors("e:unknown") == []


def test_client_writes_report_what_memory_reports(tmp_path: Path, embedder: LocalEmbedder) -> None:
    remote_mem = new_memory(tmp_path / "remote.db", embedder)
    local = new_memory(tmp_path / "local.db", embedder)
    app = make_app(remote_mem)
    docs = demo_docs()[:12]
    with Client("http://test", transport=httpx.ASGITransport(app), poll_interval=0.05) as remote:
        assert counts(remote.add(**docs[0])) == counts(local.add(**docs[0]))
        report = remote.add_many(docs[1:], batch_size=4)
        assert isinstance(report, IngestReport)
        assert counts(report) == counts(local.add_many(docs[1:], batch_size=4))

        job_id = remote.add_many(docs, wait=False)
        assert isinstance(job_id, str)
        assert remote.job(job_id).id == job_id
        assert counts(remote.wait(job_id, timeout=60)) == counts(
            local.add_many(docs)
        )  # all skipped

        assert remote.delete(source=docs[3]["source"]) == local.delete(source=docs[3]["source"])
        assert remote.stats() == local.stats()
        with pytest.raises(InputError):
            remote.add_many([{"text": "x", "unknown_field": 1}])
        turn = {"time": "2024-03-01T10:00:00+00:00", "speaker": "Ada", "session": "chat-1"}
        got = remote.add_episode("I moved to Lisbon last week.", **turn)
        want = local.add_episode("I moved to Lisbon last week.", **turn)
        assert (
            (got.episodes_added, got.facts_added)
            == (want.episodes_added, want.facts_added)
            == (1, want.facts_added)
        )
        question = "Where did Ada move?"
        hits = remote.search(question, include=["episodes", "context"]).episodes
        assert [(h.episode.id, h.score) for h in hits] == [
            (h.episode.id, h.score)
            for h in local.search(question, include=["episodes", "context"]).episodes
        ]
        assert hits and hits[0].episode.speaker == "Ada"
        assert remote.delete_namespace("default") == local.delete_namespace("default")
    asyncio.run(app.shutdown())
    remote_mem.close()
    local.close()


@pytest.mark.anyio
async def test_async_client_has_the_same_methods(served: tuple[Memory, GraphmemApp]) -> None:
    mem, app = served
    for name in (
        "add",
        "add_many",
        "search",
        "delete",
        "delete_namespace",
        "get_entity",
        "get_passage",
        "neighbors",
        "stats",
        "close",
    ):
        assert callable(getattr(Memory, name)) and callable(getattr(Client, name))
        assert asyncio.iscoroutinefunction(getattr(AsyncClient, name)), name
    async with AsyncClient(
        "http://test", transport=httpx.ASGITransport(app), poll_interval=0.05
    ) as client:
        question = demo_questions()[1]
        assert same_search(await client.search(question, k=3), mem.search(question, k=3))
        assert await client.stats() == mem.stats()
        hit = mem.search(question, k=1).entities[0].entity
        assert await client.get_entity(hit.name) == hit
        assert len(await client.neighbors(hit.id, limit=3)) == min(3, len(mem.neighbors(hit.id)))
        report = await client.add("Quentin Marsh is the brother of Helena Marsh.", source="extra")
        assert report.passages_added == 1
        assert (await client.delete(source="extra")).passages == 1


def test_errors_are_graphmem_errors(tmp_path: Path, served: tuple[Memory, GraphmemApp]) -> None:
    keys = tmp_path / "keys.json"
    key = create_key(keys, ["default"], key_id="k")
    app = make_app(served[0], keys=KeyRing.load(keys))
    transport = httpx.ASGITransport(app)
    with Client("http://test", api_key=key, transport=transport) as client:
        with pytest.raises(LimitExceeded) as too_big:
            client.search("x", k=10**9)
        assert isinstance(too_big.value, InputError) and too_big.value.code == "LIMIT_EXCEEDED"
        with pytest.raises(PermissionDenied) as denied:
            client.stats("other")
        assert denied.value.code == "FORBIDDEN"
        assert client.stats() == served[0].stats()
    with (
        Client("http://test", api_key="gmk.k.wrong", transport=httpx.ASGITransport(app)) as client,
        pytest.raises(AuthenticationFailed),
    ):
        client.stats()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    with Client(f"http://127.0.0.1:{port}", timeout=2) as client, pytest.raises(ConnectionFailed):
        client.stats()
    asyncio.run(app.shutdown())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_against_uvicorn_with_subscription_and_graceful_shutdown(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    mem = new_memory(tmp_path / "graph.db", embedder)
    mem.add_many(demo_docs()[:6])
    port = free_port()
    app = build_app(memory=mem)
    server = make_server(app, host="127.0.0.1", port=port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    try:
        with Client(url, poll_interval=0.05) as client:
            question = demo_questions()[0]
            assert same_search(client.search(question), mem.search(question))
            assert httpx.get(f"{url}/readyz").json()["status"] == "ready"
            docs = synthetic_docs(12)
            job_id = client.add_many(docs, batch_size=3, wait=False)
            assert isinstance(job_id, str)
            updates = asyncio.run(_watch(f"ws://127.0.0.1:{port}/graphql", job_id))
            assert updates[-1]["status"] == "SUCCEEDED" and updates[-1]["done"] == 12
            assert [u["done"] for u in updates] == sorted(u["done"] for u in updates)

            async def also_async() -> None:
                async with AsyncClient(url) as ac:
                    assert same_search(await ac.search(question), mem.search(question))

            asyncio.run(also_async())
            # Stop while an ingest runs: the server finishes it before it exits.
            last = client.add_many(synthetic_docs(40, seed=3), batch_size=4, wait=False)
        server.should_exit = True
        thread.join(300)
        assert not thread.is_alive()
        job = app.runtime.jobs.get(str(last))  # type: ignore[union-attr]
        assert job is not None and job.status.value == "SUCCEEDED" and job.done == 40
        assert mem.stats().passages == 6 + 12 + 40
    finally:
        server.should_exit = True
        thread.join(60)
        mem.close()


async def _watch(
    url: str, job_id: str, payload: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Job states from the jobProgress subscription (graphql-transport-ws), until complete."""
    seen: list[dict[str, Any]] = []
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        query = (
            "subscription($id: ID!) { jobProgress(id: $id, interval: 0.05) { status done total } }"
        )
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": {"id": job_id}},
                }
            )
        )
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if message["type"] == "next":
                assert "errors" not in message["payload"], message
                seen.append(message["payload"]["data"]["jobProgress"])
            else:
                assert message["type"] == "complete", message
                return seen


def test_subscriptions_need_a_key_for_the_job_namespace(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    keys = tmp_path / "keys.json"
    key_a = create_key(keys, ["a"], key_id="a")
    key_b = create_key(keys, ["b"], key_id="b")
    mem = new_memory(tmp_path / "graph.db", embedder)
    port = free_port()
    app = build_app(memory=mem, keys=keys)
    server = make_server(app, host="127.0.0.1", port=port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive()
        time.sleep(0.05)
    ws_url = f"ws://127.0.0.1:{port}/graphql"
    try:
        with Client(f"http://127.0.0.1:{port}", api_key=key_a) as client:
            job_id = str(client.add_many(synthetic_docs(4), wait=False))
        updates = asyncio.run(_watch(ws_url, job_id, {"Authorization": f"Bearer {key_a}"}))
        assert updates[-1]["status"] == "SUCCEEDED"

        async def refused(payload: dict[str, Any]) -> Any:
            async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
                await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
                reply = json.loads(await ws.recv())
                assert reply["type"] == "connection_ack"
                query = "subscription($id: ID!) { jobProgress(id: $id) { status } }"
                await ws.send(
                    json.dumps(
                        {
                            "id": "1",
                            "type": "subscribe",
                            "payload": {"query": query, "variables": {"id": job_id}},
                        }
                    )
                )
                return json.loads(await ws.recv())

        async def rejected(payload: dict[str, Any]) -> int | None:
            async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
                await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await ws.recv()
                return closed.value.rcvd.code if closed.value.rcvd else None

        other = asyncio.run(refused({"apiKey": key_b}))  # a key, but for another namespace
        assert other["type"] in ("next", "error"), other
        errors = other["payload"]["errors"] if other["type"] == "next" else other["payload"]
        assert [e["extensions"]["code"] for e in errors] == ["NOT_FOUND"], other
        assert asyncio.run(rejected({})) == 4403
        assert asyncio.run(rejected({"apiKey": "gmk.a.wrong"})) == 4403
    finally:
        server.should_exit = True
        thread.join(60)
        mem.close()


@pytest.mark.slow
def test_serve_command_with_keys_and_sigterm(tmp_path: Path, embedder: LocalEmbedder) -> None:
    keys = tmp_path / "keys.json"
    store = tmp_path / "served.db"
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "graphmem.cli",
            "keys",
            "create",
            "--file",
            str(keys),
            "--namespace",
            "team",
            "--id",
            "team",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    key = made.stdout.strip()
    assert key.startswith("gmk.team.") and key not in keys.read_text()

    refused = subprocess.run(
        [sys.executable, "-m", "graphmem.cli", "serve", "--host", "0.0.0.0", "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "without API keys" in refused.stderr

    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "graphmem.cli",
            "serve",
            "--store",
            str(store),
            "--port",
            str(port),
            "--keys",
            str(keys),
            "--extractor",
            "none",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.2)
        with Client(f"http://127.0.0.1:{port}", api_key=key) as client:
            job_id = client.add_many(synthetic_docs(20), batch_size=2, wait=False)
            assert client.job(str(job_id)).namespace == "team"
        with (
            Client(f"http://127.0.0.1:{port}", api_key="gmk.team.nope") as bad,
            pytest.raises(AuthenticationFailed),
        ):
            bad.stats()
        proc.send_signal(signal.SIGTERM)  # mid-ingest: the server finishes the job, then exits
        # uvicorn re-raises the signal once it has shut down cleanly, so the exit is "by SIGTERM"
        assert proc.wait(timeout=300) in (0, -signal.SIGTERM)
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
    assert any(x.get("path") == "/graphql" and x.get("key") == "team" for x in lines), err[-2000:]
    with Memory(str(store), embedder=embedder, extractor="none") as after:
        assert after.stats("team").passages == 20
