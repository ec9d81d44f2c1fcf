"""Stores, and :func:`open_store`, which picks one from a URL.

=============================================  ==========================================
URL                                            store
=============================================  ==========================================
``sqlite:///graph.db``, ``graph.db``            SQLite file ``graph.db`` (relative path)
``sqlite:////abs/graph.db``, ``/abs/graph.db``  SQLite file ``/abs/graph.db``
``sqlite:///:memory:``, ``:memory:``            SQLite in memory (gone when closed)
``neo4j://``, ``neo4j+s://``, ``bolt://`` ...   Neo4j (extra ``graphmem[neo4j]``)
``falkordb://host:port``, ``falkordbs://``      FalkorDB (extra ``graphmem[falkordb]``)
=============================================  ==========================================

Each store package declares the schemes it serves (``SCHEMES``, scheme -> the extra it needs);
:func:`store_schemes` reads them, so a scheme a store accepts is never refused here.

Anything else that looks like a URL (``sqlite:data/x.db``, ``neo4j:host``) is refused rather than
taken as a file name. ``open_store(url, create=False)`` refuses a SQLite file that does not exist
(read-only callers use it so a typo never creates an empty database), and a file that is not
a graphmem store, or is empty, with :class:`~graphmem.errors.StoreError` (nothing is written).

>>> store = open_store("sqlite:///:memory:")
>>> store.url
'sqlite:///:memory:'
>>> store.close()
"""

from __future__ import annotations

import importlib
import re
from os import PathLike, fspath
from pathlib import Path
from typing import Any

from graphmem.errors import ConfigError, NotFound
from graphmem.store.base import Store, WriteBatch

__all__ = [
    "DEFAULT_STORE_URL",
    "FORMS",
    "Store",
    "WriteBatch",
    "open_store",
    "sqlite_path",
    "store_schemes",
]

#: the store of `Memory()`, the CLI, the server and MCP when none is given: graphmem.db in the
#: current folder
DEFAULT_STORE_URL = "sqlite:///graphmem.db"

FORMS = (
    "sqlite:///relative.db, sqlite:////absolute.db, a file path, neo4j://host, bolt://host "
    "or falkordb://host:port (falkordbs:// with TLS)"
)
# "word:" before anything but "//" is a URL typed wrong (sqlite:x.db, sqlite:/x.db), not a file
# name; one letter is a Windows drive (C:\\x.db).
_SCHEME_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")

# the store packages; each declares SCHEMES (scheme -> extra) and serves those URLs
_STORE_PACKAGES = ("graphmem.store.sqlite", "graphmem.store.cypher")
_SQLITE = "graphmem.store.sqlite"
_DRIVERS = {"neo4j", "falkordb", "redis"}


def store_schemes() -> dict[str, tuple[str, str]]:
    """Every URL scheme a store serves: scheme -> (its store package, the extra it needs).

    A store package this installation cannot import (its own import fails, or a driver's it
    imports at once) serves nothing here: :func:`open_store` then says which extras bring one.

    >>> store_schemes()["falkordbs"]
    ('graphmem.store.cypher', 'falkordb')
    """
    out: dict[str, tuple[str, str]] = {}
    for name in _STORE_PACKAGES:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            missing = exc.name or ""
            if missing.startswith("graphmem") or missing.split(".")[0] in _DRIVERS:
                continue
            raise
        for scheme, extra in module.SCHEMES.items():
            out[scheme] = (name, extra)
    return out


def sqlite_path(url: str | PathLike[str]) -> str | None:
    """The SQLite file a URL names (``":memory:"`` for memory), or None for a server store.

    Raises :class:`ConfigError`, naming the accepted forms, for a malformed URL.

    >>> sqlite_path("sqlite:///data/x.db"), sqlite_path("sqlite:////abs/x.db")
    ('data/x.db', '/abs/x.db')
    >>> sqlite_path("sqlite:data/x.db")
    Traceback (most recent call last):
    ...
    graphmem.errors.ConfigError: bad store URL 'sqlite:data/x.db': use sqlite:///relative.db, \
sqlite:////absolute.db, a file path, neo4j://host, bolt://host or falkordb://host:port (falkordbs:// \
with TLS)
    """
    text = fspath(url)
    if not text.strip():
        raise ConfigError(f"empty store URL: use {FORMS}")
    scheme, sep, rest = text.partition("://")
    if not sep:
        if text != ":memory:" and _SCHEME_LIKE.match(text):
            raise ConfigError(f"bad store URL {text!r}: use {FORMS}")
        return text
    scheme = scheme.lower()
    served = store_schemes()
    if served.get(scheme, ("", ""))[0] == _SQLITE:
        # SQLAlchemy's convention: sqlite:///rel.db is relative, sqlite:////abs.db absolute.
        if not rest.startswith("/"):
            raise ConfigError(f"bad SQLite URL {text!r}: use {FORMS}")
        path = rest[1:]
        if not path:
            raise ConfigError(f"bad SQLite URL {text!r}: no file path (or :memory:)")
        return path
    if scheme not in served and len({p for p, _ in served.values()}) < len(_STORE_PACKAGES):
        raise ConfigError(
            f"{text!r}: no store this installation can load serves {scheme}://; the server "
            "stores need the Cypher store and a driver: pip install 'graphmem[neo4j]' or "
            "'graphmem[falkordb]'"
        )
    if scheme not in served:
        raise ConfigError(f"unknown store URL {text!r}: use {FORMS}")
    return None


def open_store(url: str | PathLike[str], *, create: bool = True) -> Store:
    """Open the store a URL names (see the table above); a plain path means SQLite.

    Raises :class:`ConfigError` for a malformed URL or an unknown scheme, or when a server
    store's extra is not installed; with ``create=False``, :class:`NotFound` when the SQLite
    file does not exist (nothing is created).
    """
    text = fspath(url)
    path = sqlite_path(text)
    if path is not None:
        if not create and path != ":memory:" and not Path(path).expanduser().is_file():
            raise NotFound(f"no store at {text!r} (file {path} does not exist)")
        return _sqlite(path, url=text if "://" in text else None, create=create)
    extra = store_schemes()[text.partition("://")[0].lower()][1]
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


def _sqlite(path: str, *, url: str | None, create: bool) -> Store:
    from graphmem.store.sqlite import SQLiteStore

    return SQLiteStore(path, url=url, create=create)
