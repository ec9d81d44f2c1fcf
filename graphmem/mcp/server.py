"""Build and run the MCP server (what ``graphmem mcp`` calls).

Over stdio the namespace is the one given on the command line. Over streamable HTTP the server
binds 127.0.0.1 unless told otherwise; with a key file every request needs a key and acts on the
key's namespace; without one it stays open and refuses any host but loopback.

    run("sqlite:///memory.db", namespace="agent-1")                                   # stdio
    run("sqlite:///memory.db", transport="http", port=8765, keys="keys.json")         # HTTP
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from mcp.server.mcpserver import MCPServer

from graphmem.errors import ConfigError, StoreError
from graphmem.ids import check_namespace
from graphmem.mcp.auth import SCOPE, ApiKeyHeader, KeyVerifier, RevokedStreams, caller_middleware
from graphmem.mcp.backend import Backend, Caller
from graphmem.mcp.lifecycle import register_lifecycle
from graphmem.mcp.tools import register
from graphmem.memory import DEFAULT_STORE_URL

if TYPE_CHECKING:
    from graphmem.memory import Memory

log = logging.getLogger("graphmem.mcp")

Transport = Literal["stdio", "http"]
INSTRUCTIONS = (
    "graphmem is this agent's long-term memory: a knowledge graph of what it was told. "
    "Store texts with add_memory (add_memories for many) and conversation turns with "
    "add_episode; answer questions with search_memory (multi-hop questions work), facts with "
    "search_facts (as_of for the past), and look things up with get_entity."
)


def memory_factory(
    store: str, *, embedder: Any = "local", extractor: Any = "nlp", namespace: str = "default"
) -> Callable[[Memory | None], Memory]:
    """Builds the memory; a rebuild (after the store went away) keeps the loaded models."""

    def build(previous: Memory | None) -> Memory:
        from graphmem.memory import Memory

        if previous is None:
            return Memory(store, embedder=embedder, extractor=extractor, namespace=namespace)
        return Memory(
            store, embedder=previous.embedder, extractor=previous.extractor, namespace=namespace
        )

    return build


def build_server(
    backend: Backend,
    *,
    keys: Any = None,
    issuer_url: str = "http://127.0.0.1",
    log_level: str = "WARNING",
) -> MCPServer[Any]:
    """The MCP server over ``backend``; ``keys`` (a :class:`KeyRing`) makes HTTP need a key."""
    auth: dict[str, Any] = {}
    keyed = keys is not None and not keys.open
    if keyed:
        from mcp.server.auth.settings import AuthSettings

        # graphmem is its own token authority (the key file): no OAuth routes, no metadata.
        auth = {
            "token_verifier": KeyVerifier(keys),
            "auth": AuthSettings(
                issuer_url=issuer_url, resource_server_url=None, required_scopes=[SCOPE]
            ),
        }
    from graphmem import __version__

    server: MCPServer[Any] = MCPServer(
        "graphmem",
        title="graphmem memory",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level=log_level.upper(),  # type: ignore[arg-type]
        middleware=[caller_middleware(backend.default, keyed=keyed, keys=keys if keyed else None)],
        **auth,
    )
    register(server, backend)
    register_lifecycle(server, backend)
    return server


def _warm_in_background(backend: Backend) -> None:
    threading.Thread(target=backend.warm_up, name="graphmem-mcp-warm-up", daemon=True).start()


def http_app(
    server: MCPServer[Any], *, host: str = "127.0.0.1", path: str = "/mcp", keys: Any = None
) -> Any:
    """The ASGI app of the streamable HTTP transport (with ``X-API-Key`` support); with
    ``keys``, the exchanges of a key end once it is revoked (:class:`RevokedStreams`)."""
    app: Any = server.streamable_http_app(streamable_http_path=path, host=host)
    if keys is not None and not keys.open:
        app = RevokedStreams(app, keys)
    return ApiKeyHeader(app)


def run(
    store: str = DEFAULT_STORE_URL,
    *,
    namespace: str = "default",
    transport: Transport = "stdio",
    host: str = "127.0.0.1",
    port: int = 8765,
    keys: str | os.PathLike[str] | None = None,
    extractor: Any = "nlp",
    embedder: Any = "local",
    log_level: str = "warning",
) -> None:
    """Serve memory over MCP until stdin closes (stdio) or SIGINT/SIGTERM (HTTP)."""
    try:
        ns = check_namespace(namespace)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if transport not in ("stdio", "http"):
        raise ConfigError(f"unknown transport {transport!r}: use stdio or http")
    ring = None
    if transport == "http":
        from graphmem.keys import is_loopback, load_keys

        ring = load_keys(keys, default_namespace=ns)
        if ring.open and not is_loopback(host):
            raise ConfigError(
                f"refusing to serve MCP on {host} without API keys: anyone who can reach it "
                "could read and change memory. Pass --keys FILE (graphmem keys create ...)."
            )
    elif keys is not None:
        raise ConfigError("--keys is for --transport http; over stdio the namespace is fixed")
    backend = Backend(
        memory_factory(store, embedder=embedder, extractor=extractor, namespace=ns), Caller(ns)
    )
    try:
        backend.open()  # a bad URL fails now; a store that is down is retried per call
    except StoreError as exc:
        print(f"graphmem mcp: the store is unavailable for now: {exc}", file=sys.stderr)
    _warm_in_background(backend)
    server = build_server(
        backend, keys=ring, issuer_url=f"http://{host}:{port}", log_level=log_level
    )
    try:
        if transport == "stdio":
            server.run("stdio")
        else:
            _serve_http(server, host=host, port=port, log_level=log_level, keys=ring)
    finally:
        backend.close()


def _serve_http(
    server: MCPServer[Any], *, host: str, port: int, log_level: str, keys: Any = None
) -> None:
    import uvicorn

    config = uvicorn.Config(
        http_app(server, host=host, keys=keys),
        host=host,
        port=port,
        log_level=log_level.lower(),
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    print(f"graphmem mcp: serving http://{host}:{port}/mcp", file=sys.stderr, flush=True)
    uvicorn.Server(config).run()
