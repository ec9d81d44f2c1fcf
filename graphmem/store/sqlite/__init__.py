"""The embedded store: one SQLite file, nothing to start.

>>> from graphmem.store.sqlite import SQLiteStore
>>> SQLiteStore(":memory:").namespaces()
[]
"""

from __future__ import annotations

from graphmem.store.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore"]
