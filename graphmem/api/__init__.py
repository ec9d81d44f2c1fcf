"""graphmem's GraphQL API (installed as ``graphmem.api``; never import it as ``api``).

>>> from graphmem.api import create_app, Settings   # doctest: +SKIP
>>> app = create_app(memory, settings=Settings(graphiql=True))  # doctest: +SKIP

``serve(...)`` runs it with uvicorn; the ``graphmem`` command line has ``serve``,
``keys create|list|revoke`` and ``schema`` (:mod:`graphmem.cli`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["GraphmemApp", "KeyRing", "Limits", "Settings", "create_app", "create_key", "serve"]

_WHERE = {
    "GraphmemApp": "graphmem.api.app",
    "create_app": "graphmem.api.app",
    "KeyRing": "graphmem.api.auth",
    "create_key": "graphmem.api.auth",
    "Limits": "graphmem.api.limits",
    "Settings": "graphmem.api.settings",
    "serve": "graphmem.api.server",
}


def __getattr__(name: str) -> Any:
    # Lazy: importing graphmem.api.auth (for the key CLI) should not load strawberry.
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'graphmem.api' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
