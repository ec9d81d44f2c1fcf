"""GraphQL types of what the API's writes and jobs report (counts, jobs, the caller), mirroring
:mod:`graphmem.models` field for field (camelCased) as :mod:`graphmem_api.types` does; that module
re-exports them, so ``types.Job`` and ``reports.Job`` are one type.
"""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from strawberry.scalars import JSON


@strawberry.type
class IngestReport:
    passages_added: int
    passages_skipped: int
    passages_failed: int
    entities_added: int
    facts_added: int
    events_added: int
    synonym_edges: int
    extraction_calls: int
    extraction_cache_hits: int
    texts_embedded: int
    embedding_cache_hits: int
    documents_unresolved: int
    usage: JSON
    seconds: float


@strawberry.type(description="What recording episodes did.")
class EpisodeReport(IngestReport):
    episodes_added: int
    episodes_skipped: int


@strawberry.input(description="A time interval; either end may be open.")
class TimeRange:
    start: datetime | None = None
    end: datetime | None = None


@strawberry.type
class DeleteReport:
    passages: int
    entities: int
    facts: int
    events: int
    hyperedges: int
    episodes: int


@strawberry.type
class Stats:
    namespace: str
    passages: int
    entities: int
    facts: int
    events: int
    hyperedges: int
    episodes: int
    edges: int
    failed_passages: int


@strawberry.enum
class JobStatus(enum.Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


@strawberry.type
class JobError:
    message: str
    code: str


@strawberry.type(description="A document an ingest did not store; the others were stored.")
class RejectedDocument:
    index: int = strawberry.field(description="its position in the `documents` argument")
    message: str


@strawberry.type(description="A background ingest: poll `job(id)` or subscribe to `jobProgress`.")
class Job:
    id: strawberry.ID
    namespace: str
    status: JobStatus
    total: int = strawberry.field(description="documents submitted")
    done: int = strawberry.field(description="documents processed so far")
    progress: float = strawberry.field(description="done / total, 0 to 1")
    report: IngestReport | None = strawberry.field(description="set once the job has finished")
    error: JobError | None
    rejected: list[RejectedDocument] = strawberry.field(
        description="documents not stored (not Unicode text, ...), each with why"
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@strawberry.type(description="Who the API key is and what it may touch.")
class Viewer:
    key_id: str | None = strawberry.field(description="null on an open server")
    namespaces: list[str] | None = strawberry.field(description="null: every namespace")
    read_only: bool
    default_namespace: str


@strawberry.input(description="One text to ingest.")
class DocumentInput:
    text: str
    source: str | None = None
    title: str | None = None
    time: datetime | None = None
    metadata: JSON | None = None
