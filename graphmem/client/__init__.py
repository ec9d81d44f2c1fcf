"""The client SDK: :class:`Client` and :class:`AsyncClient`, with the methods of ``Memory``.

Code moves between embedded and remote by changing one line::

    mem = graphmem.Memory("sqlite:///graph.db")
    mem = graphmem.Client("http://127.0.0.1:8000", api_key="gmk.team-a.…")

    mem.add_many(docs)                     # an IngestReport (waits for the server's job)
    hits = mem.search("Where was Ada Lovelace born?", k=5)   # a SearchResult
    mem.close()

Errors are graphmem's: a bad request raises :class:`~graphmem.errors.InputError`
(:class:`RemoteInputError`), an unknown id :class:`~graphmem.errors.NotFound`, an unreachable
server :class:`~graphmem.errors.ConnectionFailed`; each server error has its ``code``.
``transport=`` takes any httpx transport, e.g. ``httpx.ASGITransport(app)`` to test in process
(the sync client runs an async transport on a private event loop thread).
"""

from __future__ import annotations

from graphmem.client.remote import (
    AsyncClient,
    AuthenticationFailed,
    Client,
    JobInfo,
    JobTimeout,
    LimitExceeded,
    NotSupported,
    PermissionDenied,
    RemoteError,
    RemoteInputError,
    RemoteNotFound,
    Unavailable,
)

__all__ = [
    "AsyncClient",
    "AuthenticationFailed",
    "Client",
    "JobInfo",
    "JobTimeout",
    "LimitExceeded",
    "NotSupported",
    "PermissionDenied",
    "RemoteError",
    "RemoteInputError",
    "RemoteNotFound",
    "Unavailable",
]
