"""Building a namespace's search structures before its first question.

A store that keeps them in memory (:class:`~graphmem.store.base.Warmable`: SQLite) builds its
own; what the episode search derives from the fact table, and the date parser a question's
"two weeks ago" needs (its first use costs about 0.3 s), are built here.
"""

from __future__ import annotations

from graphmem.retrieve import arigraph, asof
from graphmem.store.base import Store, Warmable
from graphmem.timeparse import warm as warm_dates

__all__ = ["warm"]


def warm(store: Store, namespace: str) -> None:
    """Build now what the first search of ``namespace`` would (no-op for other stores)."""
    if isinstance(store, Warmable):
        store.warm(namespace)
        asof.warm(store, namespace)
        arigraph.warm(store, namespace)
        warm_dates()
