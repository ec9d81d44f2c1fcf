"""Helpers for the MCP tests and benchmark: start ``graphmem mcp`` for real and talk to it.

The server always runs as a subprocess (``python -m graphmem.cli mcp ...``) with this checkout
first on the path, the real MiniLM embedder (offline) and the spaCy extractor; HTTP servers are
stopped by their pid.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"


def server_env() -> dict[str, str]:
    env = {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if "HOME" in os.environ:  # the ONNX export of the query encoder is cached there
        env["HOME"] = os.environ["HOME"]
    return env


def mcp_args(*args: str) -> list[str]:
    return ["-m", "graphmem.cli", "mcp", *args]


def stdio_params(store: str, namespace: str, *extra: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=mcp_args("--store", store, "--namespace", namespace, *extra),
        env=server_env(),
        cwd=str(ROOT),
    )


def stdio_client(store: str, namespace: str, *extra: str) -> Client:
    return Client(stdio_params(store, namespace, *extra), read_timeout_seconds=300)


def http_client(url: str, key: str | None = None, header: str = "authorization") -> Client:
    headers: dict[str, str] = {}
    if key is not None:
        headers = (
            {"X-API-Key": key} if header == "x-api-key" else {"Authorization": f"Bearer {key}"}
        )
    transport = streamable_http_client(url, http_client=create_mcp_http_client(headers=headers))
    return Client(transport, read_timeout_seconds=300)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HttpServer:
    """``graphmem mcp --transport http`` on a free 127.0.0.1 port, stopped by pid."""

    def __init__(self, store: str, *extra: str, namespace: str = "default") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.args = mcp_args(
            "--store",
            store,
            "--namespace",
            namespace,
            "--transport",
            "http",
            "--port",
            str(self.port),
            *extra,
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> HttpServer:
        self.proc = subprocess.Popen(
            [sys.executable, *self.args],
            env=server_env(),
            cwd=str(ROOT),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"graphmem mcp exited with {self.proc.returncode}: {err}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"graphmem mcp did not listen on {self.port} in {timeout}s")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def text(result: Any) -> str:
    """The text blocks of a tool result, joined."""
    return "\n".join(block.text for block in result.content if getattr(block, "text", None))
