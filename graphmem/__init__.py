"""graphmem: knowledge-graph memory for LLM applications and agents.

>>> import graphmem
>>> graphmem.GraphmemError.__name__
'GraphmemError'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphmem.errors import (
    ConfigError,
    ConnectionFailed,
    EmbeddingError,
    ExtractionError,
    GraphmemError,
    InputError,
    NotFound,
    StoreError,
    TransactionFailed,
)
from graphmem.models import (
    Entity,
    Episode,
    Event,
    Fact,
    Hyperedge,
    Passage,
    SearchResult,
)

if TYPE_CHECKING:
    from graphmem.async_memory import AsyncMemory
    from graphmem.client import AsyncClient, Client
    from graphmem.memory import Memory
    from graphmem.models import Document

__version__ = "0.1.0"

__all__ = [
    "AsyncClient",
    "AsyncMemory",
    "Client",
    "ConfigError",
    "ConnectionFailed",
    "Document",
    "EmbeddingError",
    "Entity",
    "Episode",
    "Event",
    "ExtractionError",
    "Fact",
    "GraphmemError",
    "Hyperedge",
    "InputError",
    "Memory",
    "NotFound",
    "Passage",
    "SearchResult",
    "StoreError",
    "TransactionFailed",
]


def __getattr__(name: str) -> Any:
    # Lazy, so `import graphmem` stays cheap (no torch, no spaCy) until a Memory is made.
    if name == "AsyncMemory":
        from graphmem import async_memory

        return async_memory.AsyncMemory
    if name in {"Memory", "Document"}:
        from graphmem import memory

        return getattr(memory, name)
    if name in {"Client", "AsyncClient"}:
        from graphmem import client

        return getattr(client, name)
    raise AttributeError(f"module 'graphmem' has no attribute {name!r}")
