"""The ASGI app: GraphQL at ``/graphql``, ``/healthz``, ``/readyz``, keys, limits, logs, shutdown.

>>> from graphmem_api import create_app, Settings
>>> app = create_app(lambda: Memory("sqlite:///g.db"), settings=Settings())  # doctest: +SKIP

The memory is built on start-up (lifespan) or on the first request when no server runs the
lifespan (``httpx.ASGITransport``). Requests are authenticated and size-checked before GraphQL
parses anything; every request leaves one JSON line on the ``graphmem_api.access`` logger.
Shutdown stops taking jobs, lets queued and running ingests finish, then closes the memory (if
the app built it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from graphmem.keys import Principal, token_from_headers
from graphmem_api.context import Runtime
from graphmem_api.errors import (
    INTERNAL,
    LIMIT_EXCEEDED,
    NOT_FOUND,
    UNAUTHENTICATED,
    UNAVAILABLE,
    error_body,
)
from graphmem_api.graphiql import is_graphiql_path, send_page, serve_graphiql
from graphmem_api.guard import serve_revocable
from graphmem_api.jobs import JobRunner, ingest_job
from graphmem_api.schema import build_schema
from graphmem_api.settings import Settings
from graphmem_api.view import GraphQLView, unauthenticated

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("graphmem_api")
access_log = logging.getLogger("graphmem_api.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class BodyTooLarge(Exception):
    """The request body grew past the limit while it was being read."""


def warm_up(memory: Any, namespace: str) -> float:
    """Load what the first search needs before ``/readyz`` says ready: the query model (one
    short query embedded) and the store's search structures (one search). Seconds taken.

    A failure is logged, not fatal: the first real search reports it to its caller.
    """
    started = time.perf_counter()
    try:
        embedder = getattr(memory, "embedder", None)
        if embedder is not None:
            embedder.embed(["warm up"], kind="query")
        if hasattr(memory, "search"):
            memory.search("warm up", k=1, namespace=namespace)
    except Exception as exc:
        log.warning(
            "warm-up failed (%s: %s); the first search will be slow", type(exc).__name__, exc
        )
    took = time.perf_counter() - started
    log.info("warmed up", extra={"fields": {"ms": round(took * 1e3, 1)}})
    return took


class GraphmemApp:
    """The ASGI application. Build it with :func:`create_app`."""

    def __init__(self, memory_or_factory: Any, settings: Settings) -> None:
        self.settings = settings
        self.schema = build_schema(settings.limits)
        self.view = GraphQLView(
            self,
            schema=self.schema,
            graphql_ide=None,  # our own page, with vendored assets (graphmem_api.graphiql)
            allow_queries_via_get=False,
        )
        self._source = memory_or_factory
        self.runtime: Runtime | None = None
        self.state = "idle"  # idle, starting, ready, failed, stopping, stopped
        self._error: str | None = None
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._owns_memory = False

    # -- lifecycle ----------------------------------------------------------------------------
    def _build(self) -> None:
        try:
            source = self._source
            if hasattr(source, "search") and hasattr(source, "store"):
                memory = getattr(source, "sync", source)  # an AsyncMemory wraps a Memory
            elif callable(source):
                memory, self._owns_memory = source(), True
                memory = getattr(memory, "sync", memory)
            else:
                raise TypeError(f"expected a Memory or a function returning one, got {source!r}")
            s = self.settings
            jobs = JobRunner(
                ingest_job(memory), workers=s.job_workers, max_queued=s.limits.max_queued_jobs
            )
            executor = ThreadPoolExecutor(s.worker_threads, thread_name_prefix="graphmem-api")
            self.runtime = Runtime(s, memory, jobs, executor)
            if s.warm_up:
                warm_up(memory, s.default_namespace)
            with self._lock:
                if self.state == "starting":  # not if a shutdown began meanwhile
                    self.state = "ready"
        except Exception as exc:
            with self._lock:
                self.state, self._error = "failed", f"{type(exc).__name__}: {exc}"
            log.exception("the memory could not be opened")
        finally:
            self._ready.set()

    def start(self) -> None:
        """Start building the memory on a thread (no-op once started)."""
        with self._lock:
            if self.state != "idle":
                return
            self.state = "starting"
        threading.Thread(target=self._build, name="graphmem-api-start", daemon=True).start()

    async def wait_ready(self, timeout: float | None = None) -> Runtime:
        """The runtime once the memory is open; ``UNAVAILABLE`` if it failed or is stopping."""
        self.start()
        if not self._ready.is_set():
            await asyncio.get_running_loop().run_in_executor(
                None,
                self._ready.wait,
                timeout if timeout is not None else self.settings.ready_timeout,
            )
        if self.state != "ready" or self.runtime is None:
            from graphmem_api.errors import APIError

            raise APIError(f"the server is not ready ({self.state})", UNAVAILABLE)
        return self.runtime

    async def shutdown(self) -> bool:
        """Stop: refuse new jobs, finish queued and running ones, close the memory we opened.

        ``True`` when every job finished within ``settings.shutdown_timeout``.
        """
        with self._lock:
            if self.state in ("stopping", "stopped"):
                return True
            was, self.state = self.state, "stopping"
        if was == "starting":
            await asyncio.get_running_loop().run_in_executor(None, self._ready.wait)
        runtime, finished = self.runtime, True
        if runtime is not None:
            loop = asyncio.get_running_loop()
            finished = await loop.run_in_executor(
                None, lambda: runtime.jobs.shutdown(timeout=self.settings.shutdown_timeout)
            )
            runtime.executor.shutdown(wait=True)
            if self._owns_memory:
                await loop.run_in_executor(None, runtime.memory.close)
        self.state = "stopped"
        return finished

    # -- ASGI ---------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.wait_ready()
                except Exception:
                    await send(
                        {"type": "lifespan.startup.failed", "message": self._error or "failed"}
                    )
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = scope.get("headers") or []
        rid = next((v.decode("latin-1") for k, v in headers if k.lower() == b"x-request-id"), "")
        rid = rid if _REQUEST_ID.match(rid) else uuid.uuid4().hex[:16]
        seen: dict[str, Any] = {"status": 0, "bytes_out": 0, "bytes_in": 0, "key": None}

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            elif message["type"] == "http.response.body":
                seen["bytes_out"] += len(message.get("body", b""))
            await send(message)

        try:
            await self._route(scope, receive, send_logged, rid, seen)
        finally:
            if self.settings.access_log:
                access_log.info(
                    "request",
                    extra={
                        "fields": {
                            "request_id": rid,
                            "method": scope.get("method"),
                            "path": scope.get("path"),
                            "status": seen["status"],
                            "ms": round((time.perf_counter() - started) * 1e3, 2),
                            "bytes_in": seen["bytes_in"],
                            "bytes_out": seen["bytes_out"],
                            "key": seen["key"],
                            "client": (scope.get("client") or ("", 0))[0],
                        }
                    },
                )

    async def _store_down(self) -> str | None:
        """Why the memory's store is not answering (a ping bounded by ``ready_ping_timeout``,
        on a thread of its own), or None when it answers."""
        assert self.runtime is not None
        ping = getattr(self.runtime.memory, "ping", None)
        if ping is None:
            return None
        bound = self.settings.ready_ping_timeout
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(None, ping, bound), bound + 1.0)
        except TimeoutError:
            return f"the store did not answer within {bound:g} s"
        except Exception as exc:
            log.warning("readiness: the store is unavailable: %s", exc)
            return "the store is unavailable; the server log has the details"
        return None

    async def _route(
        self, scope: Scope, receive: Receive, send: Send, rid: str, seen: dict[str, Any]
    ) -> None:
        path = scope.get("path", "")
        if path == "/healthz":
            await _json(send, 200, {"status": "ok"})
            return
        if path == "/readyz":
            ok = self.state == "ready"
            body: dict[str, Any] = {"status": self.state}
            if ok and self.runtime is not None:
                body["jobs_active"] = self.runtime.jobs.active()
                down = await self._store_down()
                if down is not None:
                    ok, body["status"], body["store"] = False, "unavailable", down
            await _json(send, 200 if ok else 503, body)
            return
        if self.settings.explorer and (path == "/explore" or path.startswith("/explore/")):
            from graphmem_api.explore import explore_app

            await explore_app()(scope, receive, send)
            return
        if self.settings.graphiql and is_graphiql_path(path):
            await serve_graphiql(scope, send)
            return
        if path.rstrip("/") != "/graphql":
            await _json(send, 404, error_body(f"no such path {path!r}; use /graphql", NOT_FOUND))
            return
        headers = scope.get("headers") or []
        if scope.get("method") == "GET" and self.settings.graphiql and _wants_html(headers):
            # The GraphiQL page itself needs no key (the queries it sends do).
            await send_page(send)
            return
        limit = self.settings.limits.max_request_bytes
        length = next((v for k, v in headers if k.lower() == b"content-length"), None)
        if length is not None and (not length.isdigit() or int(length) > limit):
            # Answered at once, without reading the body; the server then drops the connection.
            await _json(send, 413, _too_large(limit))
            return
        principal = self.settings.keys.authenticate(token_from_headers(headers))
        if principal is None:
            message = unauthenticated(self.settings.keys)
            await _json(send, 401, error_body(message, UNAUTHENTICATED))
            return
        seen["key"] = principal.key_id
        try:
            runtime = await self.wait_ready()
        except Exception as exc:
            await _json(send, 503, error_body(str(exc), UNAVAILABLE))
            return
        scope["graphmem.runtime"], scope["graphmem.principal"] = runtime, principal
        scope["graphmem.request_id"] = rid

        async def receive_limited() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen["bytes_in"] += len(message.get("body", b""))
                if seen["bytes_in"] > limit:
                    raise BodyTooLarge
            return message

        responded = False

        async def send_tracked(message: Message) -> None:
            nonlocal responded
            responded = True
            await send(message)

        try:
            await self.view(scope, receive_limited, send_tracked)
        except BodyTooLarge:
            if not responded:
                await _json(send, 413, _too_large(limit))
        except Exception:
            ref = uuid.uuid4().hex[:12]
            log.exception("request %s failed (reference %s)", rid, ref)
            if not responded:
                msg = f"internal error (reference {ref}); the server log has the details"
                await _json(send, 500, error_body(msg, INTERNAL))

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("path", "").rstrip("/") != "/graphql":
            await send({"type": "websocket.close", "code": 4404})
            return
        token = token_from_headers(scope.get("headers") or [])
        principal: Principal | None = None
        if token is not None or self.settings.keys.open:
            principal = self.settings.keys.authenticate(token)
            if principal is None:
                await send({"type": "websocket.close", "code": 4401})
                return
        try:
            runtime = await self.wait_ready()
        except Exception:
            await send({"type": "websocket.close", "code": 1013})
            return
        session: dict[str, Any] = {"principal": principal}
        scope["graphmem.runtime"], scope["graphmem.principal"] = runtime, principal
        scope["graphmem.request_id"] = uuid.uuid4().hex[:16]
        scope["graphmem.session"] = session
        await serve_revocable(
            lambda inbox, out: self.view(scope, inbox, out),
            self.settings.keys,
            session,
            receive,
            send,
            max_json_depth=self.settings.limits.max_json_depth,
        )


def _wants_html(headers: list[tuple[bytes, bytes]]) -> bool:
    accept = next((v for k, v in headers if k.lower() == b"accept"), b"")
    return b"text/html" in accept


def _too_large(limit: int) -> dict[str, Any]:
    body: dict[str, Any] = error_body(
        f"the request body exceeds the {limit:,}-byte limit", LIMIT_EXCEEDED
    )
    return body


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class JsonFormatter(logging.Formatter):
    """One JSON object per log line: time, level, logger, message and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def create_app(memory_or_factory: Any, *, settings: Settings | None = None) -> GraphmemApp:
    """The ASGI app serving a Memory (or a function that builds one, called at start-up).

    >>> app = create_app(lambda: None, settings=Settings(graphiql=True))
    >>> app.state
    'idle'
    """
    return GraphmemApp(memory_or_factory, settings or Settings())
