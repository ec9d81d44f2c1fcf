"""``serve``: run the API with uvicorn (what ``graphmem serve`` calls).

Settings come in as arguments; the only environment variable read is ``GRAPHMEM_API_PEPPER``
(the key pepper), and only here, at the entry point.

    serve("sqlite:///graph.db", host="127.0.0.1", port=8000, keys="keys.json", graphiql=True)
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import sys
from typing import Any

from graphmem.errors import ConfigError
from graphmem.keys import PEPPER_ENV as PEPPER_ENV
from graphmem.keys import is_loopback, load_keys
from graphmem.memory import DEFAULT_STORE_URL
from graphmem_api.app import GraphmemApp, JsonFormatter, create_app
from graphmem_api.limits import Limits
from graphmem_api.settings import Settings


def build_app(
    store: str = DEFAULT_STORE_URL,
    *,
    host: str = "127.0.0.1",
    keys: str | os.PathLike[str] | None = None,
    graphiql: bool = False,
    explorer: bool = True,
    allow_open: bool = False,
    embedder: Any = "local",
    extractor: Any = "nlp",
    namespace: str = "default",
    memory: Any = None,
    limits: Limits | None = None,
    key_check_interval: float = 1.0,
    **settings: Any,
) -> GraphmemApp:
    """The app ``serve`` runs: checks that an open server only listens on loopback.

    The key file is looked at again at most every ``key_check_interval`` seconds.
    """
    ring = load_keys(keys, default_namespace=namespace, interval=key_check_interval)
    if ring.open and not is_loopback(host) and not allow_open:
        raise ConfigError(
            f"refusing to serve {host} without API keys: anyone who can reach it could read and "
            "delete every namespace. Pass --keys FILE, or --allow-open if that is really meant."
        )
    # A Memory passed in stays the caller's (not closed at shutdown); one built here is the app's.
    source: Any = memory
    if source is None:

        def source() -> Any:
            from graphmem.memory import Memory

            return Memory(store, embedder=embedder, extractor=extractor, namespace=namespace)

    conf = Settings(
        keys=ring,
        graphiql=graphiql,
        explorer=explorer,
        default_namespace=namespace,
        limits=limits or Limits(),
        **settings,
    )
    return create_app(source, settings=conf)


def configure_logging(level: str = "info") -> None:
    """JSON lines on stderr for the server's and the library's loggers (the access log included)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("graphmem_api", "graphmem"):
        root = logging.getLogger(name)
        root.handlers[:] = [handler]
        root.setLevel(level.upper())
        root.propagate = False


def make_server(
    app: GraphmemApp, *, host: str = "127.0.0.1", port: int = 8000, **uvicorn: Any
) -> Any:
    """A ``uvicorn.Server`` for ``app`` (``server.run()`` blocks; ``should_exit`` stops it)."""
    import uvicorn as uv

    config = uv.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        log_config=None,
        access_log=False,  # the app writes its own structured access log
        timeout_graceful_shutdown=uvicorn.pop("timeout_graceful_shutdown", 30),
        **uvicorn,
    )
    return uv.Server(config)


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: any free one), or a one-line :class:`ConfigError`
    saying why not (a busy port above all), before anything says it is serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"cannot serve on {host}:{port}: the port is already in use (another server?); "
                "stop it or pick another --port"
            ) from None
        raise ConfigError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def urls(app: GraphmemApp, host: str, port: int) -> dict[str, str]:
    """What the serve log shows: the address of each thing served."""
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    out = {"url": f"{base}/graphql"}
    if app.settings.explorer:
        out["explore"] = f"{base}/explore"
    if app.settings.graphiql:
        out["graphiql"] = f"{base}/graphiql"
    return out


def keys_shown(app: GraphmemApp, keys: str | os.PathLike[str] | None) -> str:
    """How the serve log names the keys: ``open``, or the file and how many keys it holds."""
    ring = app.settings.keys
    if ring.open:
        return "open"
    held = len(ring.ring().keys)
    refused = " (every request is refused until a key is created)" if held == 0 else ""
    return f"{keys} ({held} key{'s' if held != 1 else ''}){refused}"


def serve(
    store: str = DEFAULT_STORE_URL,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    keys: str | os.PathLike[str] | None = None,
    graphiql: bool = False,
    explorer: bool = True,
    allow_open: bool = False,
    extractor: Any = "nlp",
    embedder: Any = "local",
    namespace: str = "default",
    log_level: str = "info",
    **settings: Any,
) -> None:
    """Serve graphmem over GraphQL until SIGINT/SIGTERM, then finish running ingest jobs.

    Without ``keys`` the server is open and listens on loopback only (``allow_open`` to override).
    The port is bound before anything is logged: a busy port is one :class:`ConfigError`.
    """
    app = build_app(
        store,
        host=host,
        keys=keys,
        graphiql=graphiql,
        explorer=explorer,
        allow_open=allow_open,
        extractor=extractor,
        embedder=embedder,
        namespace=namespace,
        **settings,
    )
    sock = bind(host, port)
    configure_logging(log_level)
    port = sock.getsockname()[1]
    fields = {**urls(app, host, port), "store": store, "keys": keys_shown(app, keys)}
    logging.getLogger("graphmem_api").info("serving", extra={"fields": fields})
    make_server(app, host=host, port=port, log_level=log_level).run(sockets=[sock])
