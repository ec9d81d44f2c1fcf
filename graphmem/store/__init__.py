"""Stores, and :func:`open_store`, which picks one from a URL.

=============================================  ==========================================
URL                                            store
=============================================  ==========================================
``sqlite:///graph.db``, ``graph.db``            SQLite file ``graph.db`` (relative path)
``sqlite:////abs/graph.db``, ``/abs/graph.db``  SQLite file ``/abs/graph.db``
``sqlite:///:memory:``, ``:memory:``            SQLite in memory (gone when closed)
``neo4j://``, ``neo4j+s://``, ``bolt://`` ...   Neo4j (extra ``graphmem[neo4j]``)
``falkordb://host:port``                       FalkorDB (extra ``graphmem[falkordb]``)
=============================================  ==========================================

>>> store = open_store("sqlite:///:memory:")
>>> store.url
'sqlite:///:memory:'
>>> store.close()
"""

from __future__ import annotations

import importlib
from os import PathLike, fspath
from typing import Any

from graphmem.errors import ConfigError
from graphmem.store.base import Store, WriteBatch

__all__ = ["Store", "WriteBatch", "open_store"]

_SERVER_SCHEMES = {
    "neo4j": "neo4j",
    "neo4j+s": "neo4j",
    "neo4j+ssc": "neo4j",
    "bolt": "neo4j",
    "bolt+s": "neo4j",
    "bolt+ssc": "neo4j",
    "falkordb": "falkordb",
}
_DRIVERS = {"neo4j", "falkordb", "redis"}


def open_store(url: str | PathLike[str]) -> Store:
    """Open the store a URL names (see the table above); a plain path means SQLite.

    Raises :class:`ConfigError` for an unknown scheme, or when a server store's extra is not
    installed.
    """
    text = fspath(url)
    scheme, sep, rest = text.partition("://")
    if not sep:
        if not text.strip():
            raise ConfigError("empty store URL: use sqlite:///path.db or a file path")
        return _sqlite(text, url=None)
    scheme = scheme.lower()
    if scheme == "sqlite":
        # SQLAlchemy's convention: sqlite:///rel.db is relative, sqlite:////abs.db absolute.
        if not rest.startswith("/"):
            raise ConfigError(
                f"bad SQLite URL {text!r}: use sqlite:///relative.db or sqlite:////absolute.db"
            )
        path = rest[1:]
        if not path:
            raise ConfigError(f"bad SQLite URL {text!r}: no file path (or :memory:)")
        return _sqlite(path, url=text)
    extra = _SERVER_SCHEMES.get(scheme)
    if extra is None:
        raise ConfigError(
            f"unknown store URL {text!r}: use sqlite:///path.db, a file path, neo4j://host, "
            "bolt://host or falkordb://host:port"
        )
    try:
        cypher: Any = importlib.import_module("graphmem.store.cypher")
    except ImportError as exc:
        missing = exc.name or ""
        if missing.startswith("graphmem") or missing.split(".")[0] in _DRIVERS:
            raise ConfigError(
                f"{text!r} needs the Cypher store and its driver: pip install 'graphmem[{extra}]'"
            ) from exc
        raise
    opener = getattr(cypher, "open_cypher_store", None)
    if opener is None:
        raise ConfigError(f"{text!r}: this graphmem build has no Cypher store (open_cypher_store)")
    store: Store = opener(text)
    return store


def _sqlite(path: str, *, url: str | None) -> Store:
    from graphmem.store.sqlite import SQLiteStore

    return SQLiteStore(path, url=url)
