"""``graphmem mcp --transport http`` when a key is revoked while it is in use, a key file others
may write, and a batch with one bad item (issue 21, items 4 and 5): a real server on 127.0.0.1,
a real key file, revocation through ``graphmem keys revoke``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx
import pytest

from graphmem.keys import create_key, load_keys

from support.mcp import ROOT, HttpServer, http_client, server_env, stdio_client, text

ACCEPT = {"Accept": "application/json, text/event-stream"}
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"},
    },
}
#: texts per batch of MCP's add_memories (graphmem.mcp.tools.BATCH)
BATCH = 16
#: seconds within which a revoked key's SSE stream must end
ENDS_WITHIN = 5.0


def revoke(keys: Path, key_id: str) -> float:
    """Revoke with the CLI, as an operator would; the time it returned (monotonic)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "graphmem.cli",
            "keys",
            "revoke",
            "--file",
            str(keys),
            "--id",
            key_id,
        ],
        env=server_env(),
        cwd=str(ROOT),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    return time.monotonic()


def test_revoked_key_ends_its_sse_stream_and_is_refused(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    token = create_key(keys, ["team-a"], key_id="a")
    with HttpServer(f"sqlite:///{tmp_path / 'm.db'}", "--keys", str(keys)) as server:
        auth = {**ACCEPT, "Authorization": f"Bearer {token}"}
        with httpx.Client(timeout=30) as http:
            init = http.post(server.url, json=INIT, headers=auth)
            assert init.status_code == 200, init.text
            session = {**auth, "mcp-session-id": init.headers["mcp-session-id"]}
            note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            assert http.post(server.url, json=note, headers=session).status_code == 202

        opened = threading.Event()
        ended: dict[str, Any] = {}

        def listen() -> None:
            # the standalone SSE stream a client keeps open for server messages; 20 s without a
            # byte and httpx gives up (what an unguarded stream of a revoked key gets to)
            try:
                with (
                    httpx.Client(timeout=httpx.Timeout(30, read=20)) as http,
                    http.stream("GET", server.url, headers=session) as r,
                ):
                    ended["status"] = r.status_code
                    opened.set()
                    for _ in r.iter_bytes():
                        pass
                ended["by"] = "server"
            except httpx.ReadTimeout:
                ended["by"] = "timeout"
            finally:
                ended["at"] = time.monotonic()
                opened.set()

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert opened.wait(30) and ended.get("status") == 200, ended
        time.sleep(1.5)  # the stream is established and idle
        assert "at" not in ended, ended
        revoked_at = revoke(keys, "a")
        listener.join(30)
        assert "at" in ended, "the SSE stream was still open 30 s after the key was revoked"
        took = ended["at"] - revoked_at
        print(f"SSE stream of the revoked key ended {took:.2f}s after `graphmem keys revoke`")
        # the server ends it within about a second (measured 0.13 s); the bound leaves room for
        # a loaded 2-core CI machine and still tells it from an unguarded stream (20 s+)
        assert ended["by"] == "server" and took < ENDS_WITHIN, (ended, took)

        # further writes, on the same session, are refused
        call = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "add_memory", "arguments": {"text": "Ada was born in London."}},
        }
        refused = httpx.post(server.url, json=call, headers=session, timeout=30)
        assert refused.status_code == 401, refused.text


def test_an_in_flight_add_stops_storing_once_its_key_is_revoked(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    writer = create_key(keys, ["team-w"], key_id="w")
    admin = create_key(keys, ["team-w"], key_id="admin")
    filler = " ".join(
        f"Station {n} logged the tide at dawn and the wind at noon." for n in range(12)
    )
    items = [
        {"text": f"Report {i}: Mara Quill inspected lighthouse {i} in Port Elin. {filler}"}
        for i in range(120)
    ]
    done: list[float] = [0.0]  # texts stored, as the progress notifications say
    at_revocation: list[float] = []
    with HttpServer(f"sqlite:///{tmp_path / 'm.db'}", "--keys", str(keys)) as server:

        async def passages() -> int:
            async with http_client(server.url, admin) as c:
                got = await c.call_tool("stats", {})
                return int(got.structured_content["passages"])

        async def main() -> int:
            first_batch = anyio.Event()

            async def progress(count: float, total: float | None, message: str | None) -> None:
                done[0] = count
                if count >= BATCH:
                    first_batch.set()

            async def add() -> None:
                # the client stays connected and waits, as the agent did (a client
                # that went away would stop the old server's ingest too, through its progress)
                # its own ending (an error once the key is refused, or none) is not the point:
                # what the server goes on storing is
                with contextlib.suppress(Exception):
                    async with http_client(server.url, writer) as c:
                        await c.call_tool(
                            "add_memories", {"items": items}, progress_callback=progress
                        )

            with anyio.fail_after(300):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(add)
                    await first_batch.wait()
                    await anyio.to_thread.run_sync(revoke, keys, "w")
                    at_revocation.append(done[0])
                    # stored so far, until it holds still for 10 s (an unguarded server goes on
                    # to all 120: a batch takes ~3 s here)
                    settled, later = -1, await passages()
                    while settled != later:
                        await anyio.sleep(10)
                        settled, later = later, await passages()
                    tg.cancel_scope.cancel()
            return settled

        settled = anyio.run(main)
    print(
        f"add_memories of {len(items)}: {at_revocation[0]:.0f} stored when the key was "
        f"revoked, {settled} stored in all"
    )
    # the batch in flight may finish (and one more begun within the key file's 1 s re-read);
    # nothing after it
    assert settled < len(items)
    assert settled <= at_revocation[0] + 2 * BATCH


def test_a_key_file_others_may_write_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keys = tmp_path / "keys.json"
    create_key(keys, ["team-a"], key_id="a")
    assert load_keys(keys) is not None and "writable" not in caplog.text  # 0600 as written
    os.chmod(keys, 0o666)
    with caplog.at_level(logging.WARNING, logger="graphmem.keys"):
        load_keys(keys)  # what graphmem-api's serve and graphmem mcp both call
    assert "writable by every user (mode 666)" in caplog.text and "chmod 600" in caplog.text
    os.chmod(keys, 0o620)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="graphmem.keys"):
        load_keys(keys)
    assert "writable by its group" in caplog.text

    # the MCP server says so on its stderr when it starts
    os.chmod(keys, 0o666)
    server = HttpServer(f"sqlite:///{tmp_path / 'm.db'}", "--keys", str(keys)).start()
    proc = server.proc
    server.stop()
    assert proc is not None and proc.stderr is not None
    err = proc.stderr.read().decode()
    assert "writable by every user" in err and f"chmod 600 {keys}" in err, err


def test_add_episodes_rejects_a_bad_item_alone(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'm.db'}"
    items = [
        {"text": "I adopted a cat named Miso.", "speaker": "Ada", "time": "2024-03-01T10:00Z"},
        # relative times resolved against year 1 run off the calendar
        {"text": "We went hiking last weekend.", "speaker": "Ada", "time": "0001-01-01T00:00:00"},
        {"text": "   ", "speaker": "Ada", "time": "2024-03-02T10:00Z"},
        {"text": "Bo moved to Oslo.", "speaker": "Bo", "time": "next tuesday-ish"},
        {"text": "Bo started a new job at Fjordline.", "speaker": "Bo", "time": "2024-03-03"},
    ]

    async def main() -> dict[str, Any]:
        async with stdio_client(store, "agent-1") as c:
            got = await c.call_tool("add_episodes", {"items": items})
            assert not got.is_error, text(got)
            data: dict[str, Any] = got.structured_content
            assert "not stored" in text(got)
            return data

    data = anyio.run(main)
    rejected = {r["index"]: r["message"] for r in data["rejected"]}
    assert {2, 3} <= set(rejected), rejected
    assert "items[2].text" in rejected[2] and "items[3].time" in rejected[3]
    # the good ones are stored; the year-1 episode is stored or rejected by itself
    assert data["episodes_added"] + len(rejected) == len(items)
    assert data["episodes_added"] >= 2
