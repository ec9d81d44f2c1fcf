"""graphmem's GraphQL API (installed as ``graphmem_api``; never import it as ``api``).

>>> from graphmem_api import create_app, Settings   # doctest: +SKIP
>>> app = create_app(memory, settings=Settings(graphiql=True))  # doctest: +SKIP

``serve(...)`` runs it with uvicorn; the ``graphmem`` command line has ``serve``,
``keys create|list|revoke`` and ``schema`` (:mod:`graphmem.cli`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["GraphmemApp", "KeyRing", "Limits", "Settings", "create_app", "create_key", "serve"]

_WHERE = {
    "GraphmemApp": "graphmem_api.app",
    "create_app": "graphmem_api.app",
    "KeyRing": "graphmem.keys",
    "create_key": "graphmem.keys",
    "Limits": "graphmem_api.limits",
    "Settings": "graphmem_api.settings",
    "serve": "graphmem_api.server",
}


def __getattr__(name: str) -> Any:
    # Lazy: importing graphmem.keys (for the key CLI) should not load strawberry.
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'graphmem_api' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
