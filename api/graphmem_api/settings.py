"""Settings of one API server, resolved once at start-up (no environment reads here).

>>> Settings().graphiql
False
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphmem.keys import KeyFile, KeyRing
from graphmem_api.limits import Limits


@dataclass(frozen=True)
class Settings:
    """What :func:`graphmem_api.create_app` needs besides the memory."""

    #: accepted API keys: a ring, or a key file re-read when it changes; an empty ring that no
    #: key file required means an open server (see :mod:`graphmem.keys`)
    keys: KeyRing | KeyFile = field(default_factory=lambda: KeyRing([]))
    limits: Limits = field(default_factory=Limits)
    #: serve the GraphiQL page on ``GET /graphql``
    graphiql: bool = False
    #: serve the graph explorer page on ``/explore`` (static files, no data: what it shows it
    #: asks ``/graphql`` for, with the key typed into it)
    explorer: bool = True
    #: the namespace used when a request names none and its key does not imply one
    default_namespace: str = "default"
    #: ingest worker threads (1: ingests into one store run one after the other)
    job_workers: int = 1
    #: how long a shutdown waits for queued and running ingest jobs
    shutdown_timeout: float = 600.0
    #: how long a request waits for the memory to finish loading before ``UNAVAILABLE``
    ready_timeout: float = 120.0
    #: threads that run memory calls (search, reads) next to the event loop
    worker_threads: int = 16
    #: one JSON line per request on the ``graphmem_api.access`` logger
    access_log: bool = True
    #: embed a query and run one search before ``/readyz`` says ready (the first search is fast)
    warm_up: bool = True
    #: seconds ``/readyz`` waits for the store to answer its ping before it says unavailable
    ready_ping_timeout: float = 2.0
