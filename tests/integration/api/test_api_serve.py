"""``graphmem serve`` as a user runs it: the log names every URL, a busy port is one clear line
(and never a "serving" line first), and the first search after ``/readyz`` is already fast."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from graphmem.embed.local import LocalEmbedder
from graphmem.memory import Memory
from graphmem_api.server import build_app, make_server

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_cmd(tmp_path: Path, port: int, *extra: str) -> list[str]:
    store = f"sqlite:///{tmp_path / 'g.db'}"
    return [
        sys.executable,
        "-m",
        "graphmem.cli",
        "serve",
        "--store",
        store,
        "--port",
        str(port),
        "--extractor",
        "none",
        *extra,
    ]


def _env() -> dict[str, str]:
    # COLUMNS: rich wraps a non-tty stderr at 80 columns, which is the CLI's business, not this one
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}


def test_a_busy_port_is_one_clear_line_and_nothing_is_served(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            _serve_cmd(tmp_path, port), env=_env(), capture_output=True, text=True, timeout=120
        )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and "already in use" in lines[0] and str(port) in lines[0], lines
    assert "serving" not in done.stderr and "Traceback" not in done.stderr


def test_the_serve_log_names_the_graphql_explore_and_graphiql_urls(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        _serve_cmd(tmp_path, port, "--graphiql"), env=_env(), stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stderr is not None
        found: dict[str, str] = {}
        deadline = time.monotonic() + 120
        for line in proc.stderr:  # the "serving" line comes before the model loads
            if line.startswith("{") and json.loads(line).get("msg") == "serving":
                found = json.loads(line)
                break
            assert time.monotonic() < deadline
        base = f"http://127.0.0.1:{port}"
        assert found["url"] == f"{base}/graphql", found
        assert found["explore"] == f"{base}/explore" and found["graphiql"] == f"{base}/graphiql"
        assert found["keys"] == "open"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.mark.slow
def test_the_first_search_after_ready_is_fast(tmp_path: Path) -> None:
    """A fresh embedder (its model not loaded yet): ready means warmed, not 6 s to the answer."""
    mem = Memory(f"sqlite:///{tmp_path / 'g.db'}", embedder=LocalEmbedder(), extractor=None)
    mem.add_many(
        [{"text": f"Person {i} lives in city {i % 7}.", "source": f"s{i}"} for i in range(40)]
    )
    own = Memory(mem.store.url, embedder=LocalEmbedder(), extractor=None)  # cold: never used
    mem.close()
    port = _free_port()
    server = make_server(
        build_app(memory=own, access_log=False), host="127.0.0.1", port=port, log_level="warning"
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline and thread.is_alive()
                time.sleep(0.05)
            query = '{ search(question: "Where does person 3 live?", k: 3) { passages { score } } }'
            started = time.perf_counter()
            r = client.post("/graphql", json={"query": query})
            first_ms = (time.perf_counter() - started) * 1e3
        assert r.status_code == 200 and len(r.json()["data"]["search"]["passages"]) == 3, r.text
        print(f"first search after ready: {first_ms:.1f} ms")
        assert first_ms < 100, f"the first search took {first_ms:.0f} ms after /readyz"
    finally:
        server.should_exit = True
        thread.join(60)
