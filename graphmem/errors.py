"""graphmem's errors: every exception the library raises on purpose derives from one root.

Hierarchy::

    GraphmemError
    ├── ConfigError          bad settings or arguments (unknown store URL, bad parameter)
    ├── InputError           bad user input; names the file, line and field when there is one
    ├── StoreError           a storage backend failed; the backend's own error is the ``__cause__``
    │   ├── ConnectionFailed     cannot reach or log into the backend
    │   │   └── StoreUnavailable     the backend stopped answering (down, or silent past the
    │   │                            store's timeout); retry later
    │   └── TransactionFailed    a write batch was rolled back; nothing of it is stored
    ├── ExtractionError      an extractor failed on a passage; the passage is kept for retry
    │   ├── BudgetExceeded       a per-ingest token or cost budget was reached
    │   └── UnparseableOutput    an LLM's answer holds no usable JSON (retried, then failed)
    ├── EmbeddingError       the embedding model or endpoint failed
    ├── NotFound             an id that does not exist (in this namespace)
    ├── RemoteError          the API server answered with an error (``code``: its GraphQL code)
    │   ├── RemoteInputError     BAD_REQUEST (also an InputError)
    │   ├── LimitExceeded        LIMIT_EXCEEDED: a server limit (also an InputError)
    │   ├── RemoteNotFound       NOT_FOUND (also a NotFound)
    │   ├── AuthenticationFailed UNAUTHENTICATED: missing or wrong API key
    │   ├── PermissionDenied     FORBIDDEN: the key may not use that namespace, or write
    │   ├── NotSupported         NOT_IMPLEMENTED: the server's memory lacks the feature
    │   ├── Unavailable          UNAVAILABLE: the server is starting or stopping, or its
    │   │                        store is down
    │   └── JobTimeout           an ingest job outlived the caller's wait (also a TimeoutError)
    ├── AccessDenied         an API key may not use that namespace, or may not write
    └── APIError             raised by the API server's resolvers (``graphmem_api.errors``)

Backend errors are translated at the boundary (``raise StoreError(...) from exc``), so callers
catch graphmem's classes only. The client SDK (:mod:`graphmem.client`) raises the ``Remote*``
classes, mapped from the server's error codes; ``graphmem.client`` exports them too.
"""

from __future__ import annotations

from typing import Any


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


class StoreUnavailable(ConnectionFailed):
    """The backend stopped answering: the connection dropped, or no reply came within the
    store's timeout (a server down or frozen). Transient: the same call may work later.

    The API answers it with ``UNAVAILABLE``, which the client raises as :class:`Unavailable`.
    """


class TransactionFailed(StoreError):
    """A write batch failed and was rolled back."""


class ExtractionError(GraphmemError):
    """An extractor failed on a passage; the passage stays stored and marked for retry."""


class BudgetExceeded(ExtractionError):
    """The per-ingest token or cost budget was reached; the ingest stopped cleanly."""


class UnparseableOutput(ExtractionError):
    """The model's answer holds no usable JSON (prose, a refusal, nothing).

    ``output`` keeps the start of the text for the log and the passage's error field.
    """

    def __init__(self, message: str, *, output: str = "") -> None:
        self.output = output[:300]
        shown = f": {self.output!r}" if output else ""
        super().__init__(message + shown)


class EmbeddingError(GraphmemError):
    """The embedding model or endpoint failed."""


class NotFound(GraphmemError):
    """No node with that id in this namespace."""


class AccessDenied(GraphmemError):
    """An API key may not use that namespace, or is read-only and was asked to write.

    Raised on the server side (``graphmem serve``, ``graphmem mcp --transport http``); the API
    answers it with ``FORBIDDEN``, which the client raises as :class:`PermissionDenied`.
    """


# ------------------------------------------------------------------ the client SDK's errors


class RemoteError(GraphmemError):
    """An error the server answered with. ``code`` is the GraphQL error code."""

    code = "INTERNAL"

    def __init__(self, message: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(message, *args, **kwargs)
        self.errors: list[dict[str, Any]] = []


class RemoteInputError(InputError, RemoteError):
    """``BAD_REQUEST``: the request was wrong (as :class:`InputError` is, in process)."""

    code = "BAD_REQUEST"


class LimitExceeded(InputError, RemoteError):
    """``LIMIT_EXCEEDED``: a limit of the server (k, page size, request size, depth...)."""

    code = "LIMIT_EXCEEDED"


class RemoteNotFound(NotFound, RemoteError):
    """``NOT_FOUND``: no node with that id in the namespace (as :class:`NotFound` is, in process)."""

    code = "NOT_FOUND"


class AuthenticationFailed(RemoteError):
    """``UNAUTHENTICATED``: the API key is missing or wrong."""

    code = "UNAUTHENTICATED"


class PermissionDenied(RemoteError):
    """``FORBIDDEN``: the API key may not use that namespace (or may not write)."""

    code = "FORBIDDEN"


class NotSupported(RemoteError):
    """``NOT_IMPLEMENTED``: the server's memory lacks that feature."""

    code = "NOT_IMPLEMENTED"


class Unavailable(RemoteError):
    """``UNAVAILABLE``: the server is starting or stopping, or its store is down; retry later."""

    code = "UNAVAILABLE"


class JobTimeout(RemoteError, TimeoutError):
    """An ingest job did not finish within the time the caller gave it (it keeps running)."""

    code = "TIMEOUT"
