"""``serve``: run the API with uvicorn (what ``graphmem serve`` calls).

Settings come in as arguments; the only environment variable read is ``GRAPHMEM_API_PEPPER``
(the key pepper), and only here, at the entry point.

    serve("sqlite:///graph.db", host="127.0.0.1", port=8000, keys="keys.json", graphiql=True)
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
from pathlib import Path
from typing import Any

from graphmem.api.app import GraphmemApp, JsonFormatter, create_app
from graphmem.api.auth import KeyRing
from graphmem.api.limits import Limits
from graphmem.api.settings import Settings
from graphmem.errors import ConfigError

PEPPER_ENV = "GRAPHMEM_API_PEPPER"


def is_loopback(host: str) -> bool:
    """``True`` for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_keys(
    path: str | os.PathLike[str] | None, *, default_namespace: str = "default"
) -> KeyRing:
    """The key ring of a key file (``None``: no keys, an open server)."""
    pepper = os.environ.get(PEPPER_ENV, "").encode()
    if path is None:
        return KeyRing([], pepper=pepper, default_namespace=default_namespace)
    if not Path(path).is_file():
        raise ConfigError(
            f"key file {path} not found; create one with "
            f"`graphmem keys create --file {path} --namespace NAME`"
        )
    ring = KeyRing.load(path, pepper=pepper)
    ring.default_namespace = default_namespace
    return ring


def build_app(
    store: str = "sqlite:///graphmem.db",
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
    **settings: Any,
) -> GraphmemApp:
    """The app ``serve`` runs: checks that an open server only listens on loopback."""
    ring = load_keys(keys, default_namespace=namespace)
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
    """JSON lines on stderr for graphmem's loggers (the access log included)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("graphmem")
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


def serve(
    store: str = "sqlite:///graphmem.db",
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
    """
    app = build_app(
        store, host=host, keys=keys, graphiql=graphiql, explorer=explorer, allow_open=allow_open,
        extractor=extractor, embedder=embedder, namespace=namespace, **settings,
    )  # fmt: skip
    configure_logging(log_level)
    logging.getLogger("graphmem.api").info(
        "serving", extra={"fields": {"url": f"http://{host}:{port}/graphql", "store": store,
                                     "keys": "open" if app.settings.keys.open else str(keys),
                                     "graphiql": graphiql}}
    )  # fmt: skip
    make_server(app, host=host, port=port, log_level=log_level).run()
