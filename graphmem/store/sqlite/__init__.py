"""The embedded store: one SQLite file, nothing to start.

>>> from graphmem.store.sqlite import SQLiteStore
>>> SQLiteStore(":memory:").namespaces()
[]
"""

from __future__ import annotations

from graphmem.store.sqlite.store import SQLiteStore

__all__ = ["SCHEMES", "SQLiteStore"]

#: the URL schemes this store serves (scheme -> extra; read by :func:`graphmem.store.open_store`)
SCHEMES = {"sqlite": ""}
