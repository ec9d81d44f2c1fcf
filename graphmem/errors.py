"""graphmem's errors: every exception the library raises on purpose derives from one root.

Hierarchy::

    GraphmemError
    ├── ConfigError          bad settings or arguments (unknown store URL, bad parameter)
    ├── InputError           bad user input; names the file, line and field when there is one
    ├── StoreError           a storage backend failed; the backend's own error is the ``__cause__``
    │   ├── ConnectionFailed     cannot reach or log into the backend
    │   └── TransactionFailed    a write batch was rolled back; nothing of it is stored
    ├── ExtractionError      an extractor failed on a passage; the passage is kept for retry
    │   └── BudgetExceeded       a per-ingest token or cost budget was reached
    ├── EmbeddingError       the embedding model or endpoint failed
    └── NotFound             an id that does not exist (in this namespace)

Backend errors are translated at the boundary (``raise StoreError(...) from exc``), so callers
catch graphmem's classes only.
"""

from __future__ import annotations


class GraphmemError(Exception):
    """Root of every error graphmem raises on purpose."""


class ConfigError(GraphmemError):
    """Bad settings or arguments."""


class InputError(GraphmemError):
    """Bad input. ``path``, ``line`` and ``field`` say where, when known.

    >>> str(InputError("not JSON", path="corpus.jsonl", line=3))
    'corpus.jsonl:3: not JSON'
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path, self.line, self.field, self.reason = path, line, field, message
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        if field is not None:
            where += f"field {field!r}: "
        super().__init__(where + message)


class StoreError(GraphmemError):
    """A storage backend failed."""


class ConnectionFailed(StoreError):
    """Cannot reach the backend, or it refused the credentials."""


class TransactionFailed(StoreError):
    """A write batch failed and was rolled back."""


class ExtractionError(GraphmemError):
    """An extractor failed on a passage; the passage stays stored and marked for retry."""


class BudgetExceeded(ExtractionError):
    """The per-ingest token or cost budget was reached; the ingest stopped cleanly."""


class EmbeddingError(GraphmemError):
    """The embedding model or endpoint failed."""


class NotFound(GraphmemError):
    """No node with that id in this namespace."""
