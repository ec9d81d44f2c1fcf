"""Background ingest jobs: a queue, worker threads, progress, errors, graceful shutdown.

A request only enqueues; a worker thread runs the ingest and updates the job's progress. Jobs live
in memory: a restarted server forgets them (the data they wrote stays). ``shutdown`` stops taking
jobs and waits for the queued and running ones to finish (up to a timeout).

>>> runner = JobRunner(lambda job: job.add_progress(len(job.payload)) or IngestReport())
>>> job = runner.submit("default", ["a", "b"], total=2)
>>> runner.wait(job.id, timeout=5).status
<JobStatus.SUCCEEDED: 'SUCCEEDED'>
>>> runner.shutdown(timeout=5)
True
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from graphmem.errors import (
    BudgetExceeded,
    ConfigError,
    GraphmemError,
    InputError,
    NotFound,
    StoreUnavailable,
)
from graphmem.models import IngestReport
from graphmem_api.errors import (
    BAD_REQUEST,
    INTERNAL,
    LIMIT_EXCEEDED,
    NOT_FOUND,
    STORE_DOWN,
    UNAVAILABLE,
    APIError,
)

if TYPE_CHECKING:
    from graphmem.memory import Memory

log = logging.getLogger("graphmem_api.jobs")


class JobStatus(enum.Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Job:
    """One ingest. Read it through :meth:`JobRunner.get`; only the runner's thread writes it."""

    id: str
    namespace: str
    payload: Any
    total: int
    #: the key that submitted it (``None`` on an open server)
    owner: str | None = None
    status: JobStatus = JobStatus.QUEUED
    done: int = 0
    report: IngestReport | None = None
    error: str | None = None
    error_code: str | None = None
    created_at: datetime = field(default_factory=_now)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    #: documents refused (at submission or while running); the others are still stored
    rejected: list[Rejected] = field(default_factory=list)
    #: bumped on every change, so watchers know when to look again
    version: int = 0

    def reject(self, index: int, message: str) -> None:
        """Record a document that could not be stored (called from the worker thread)."""
        self.rejected.append(Rejected(index, message))
        self.version += 1

    def add_progress(self, n: int) -> None:
        """Count ``n`` more documents as processed (called from the worker thread)."""
        self.done = min(self.total, self.done + n)
        self.version += 1

    @property
    def progress(self) -> float:
        return 1.0 if self.total == 0 else self.done / self.total


@dataclass(frozen=True)
class Rejected:
    """A document of a job that was not stored: its index in the request, and why."""

    index: int
    message: str


#: runs one job and returns its report; may call ``job.add_progress`` and set ``job.report`` to
#: the report so far (kept when a later batch fails)
JobFunction = Callable[[Job], IngestReport]


def _error_code(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, APIError):
        return exc.code, exc.message
    if isinstance(exc, BudgetExceeded):
        return LIMIT_EXCEEDED, str(exc)
    if isinstance(exc, InputError | ConfigError):
        return BAD_REQUEST, str(exc)
    if isinstance(exc, NotFound):
        return NOT_FOUND, str(exc)
    if isinstance(exc, StoreUnavailable):
        log.warning("an ingest job stopped: %s", exc)
        return UNAVAILABLE, STORE_DOWN + "; re-run the ingest then: it resumes"
    return INTERNAL, ""


class JobRunner:
    """Runs jobs on ``workers`` threads (one by default: ingests write to one store)."""

    def __init__(
        self,
        run: JobFunction,
        *,
        workers: int = 1,
        max_queued: int = 64,
        keep_finished: int = 1_000,
    ) -> None:
        self._run = run
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._max_queued = max_queued
        self._keep_finished = keep_finished
        self._accepting = True
        self._threads = [
            threading.Thread(target=self._work, name=f"graphmem-job-{i}", daemon=True)
            for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    # -- submitting and reading ---------------------------------------------------------------
    def submit(
        self,
        namespace: str,
        payload: Any,
        *,
        total: int,
        owner: str | None = None,
        rejected: list[Rejected] | None = None,
    ) -> Job:
        """Queue a job; ``UNAVAILABLE`` while shutting down, ``LIMIT_EXCEEDED`` when full.

        ``rejected``: documents of ``total`` already refused (counted as done).
        """
        job = Job(uuid.uuid4().hex, namespace, payload, total, owner=owner)
        if rejected:
            job.rejected, job.done = list(rejected), min(total, len(rejected))
        with self._lock:
            if not self._accepting:
                raise APIError(
                    "the server is shutting down; submit the job again later", UNAVAILABLE
                )
            waiting = sum(1 for j in self._jobs.values() if j.status is JobStatus.QUEUED)
            if waiting >= self._max_queued:
                raise APIError(
                    f"{waiting} ingest jobs are already queued (the limit); retry when some finish",
                    LIMIT_EXCEEDED,
                )
            self._jobs[job.id] = job
            self._evict()
        self._queue.put(job)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        """Every job still remembered, oldest first."""
        with self._lock:
            return list(self._jobs.values())

    def active(self) -> int:
        """Jobs queued or running."""
        with self._lock:
            return sum(1 for j in self._jobs.values() if not j.status.finished)

    def wait(self, job_id: str, *, timeout: float | None = None) -> Job:
        """Block until the job has finished (or ``timeout`` passed); return it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while True:
                job = self._jobs.get(job_id)
                if job is None:
                    raise KeyError(job_id)
                if job.status.finished:
                    return job
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return job
                self._changed.wait(left)

    # -- shutting down ------------------------------------------------------------------------
    def shutdown(self, *, timeout: float | None = None) -> bool:
        """Stop accepting jobs; let queued and running ones finish. ``True`` if all finished.

        Jobs still queued when ``timeout`` passes are marked CANCELLED (nothing of them was
        written); a running ingest is never interrupted halfway through a batch.
        """
        with self._lock:
            self._accepting = False
        for _ in self._threads:
            self._queue.put(None)
        deadline = None if timeout is None else time.monotonic() + timeout
        for t in self._threads:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            t.join(left)
        with self._changed:
            for job in self._jobs.values():
                if job.status is JobStatus.QUEUED:
                    job.status = JobStatus.CANCELLED
                    job.error, job.error_code = (
                        "the server shut down before the job ran",
                        UNAVAILABLE,
                    )
                    job.finished_at = _now()
                    job.version += 1
            self._changed.notify_all()
        return not any(t.is_alive() for t in self._threads)

    # -- internals ----------------------------------------------------------------------------
    def _evict(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.status.finished]
        for job_id in finished[: max(0, len(finished) - self._keep_finished)]:
            del self._jobs[job_id]

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._changed:
                if job.status is not JobStatus.QUEUED:
                    continue
                job.status, job.started_at = JobStatus.RUNNING, _now()
                job.version += 1
                self._changed.notify_all()
            report = job.report
            try:
                report = self._run(job)
                status, error, code = JobStatus.SUCCEEDED, None, None
            except BaseException as exc:
                code, error = _error_code(exc)
                if code == INTERNAL:
                    ref = uuid.uuid4().hex[:12]
                    log.error("ingest job %s failed (reference %s)", job.id, ref, exc_info=exc)
                    error = f"internal error (reference {ref}); the server log has the details"
                elif not isinstance(exc, GraphmemError | APIError):
                    log.warning("ingest job %s failed: %s", job.id, exc)
                status, report = JobStatus.FAILED, job.report
                if not isinstance(exc, Exception):
                    raise
            with self._changed:
                job.report = report
                job.status, job.error, job.error_code = status, error, code
                job.finished_at = _now()
                job.payload = None  # the documents are no longer needed; free them
                job.version += 1
                self._changed.notify_all()


def merge_reports(a: IngestReport, b: IngestReport) -> IngestReport:
    """The report of two ingests run one after the other (counts and usage added up).

    >>> merge_reports(IngestReport(passages_added=1), IngestReport(passages_added=2)).passages_added
    3
    """
    data: dict[str, Any] = {}
    for name in IngestReport.model_fields:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, dict):
            data[name] = {k: x.get(k, 0) + y.get(k, 0) for k in {*x, *y}}
        else:
            data[name] = x + y
    return IngestReport(**data)


def ingest_job(memory: Memory) -> Callable[[Job], IngestReport]:
    """The job function: ``memory.add_many`` one batch (one transaction) at a time.

    A batch that fails on bad input (or on a date past the calendar's ends: OverflowError) is
    ingested again document by document, so one bad document is reported (``job.rejected``, by
    its index in the request) and its good neighbours are still stored. Other failures (the
    store, the model) fail the job.
    """

    def run(job: Job) -> IngestReport:
        size: int = job.payload["batch_size"]
        if job.payload.get("retry"):  # retryFailed: the failed passages, read where they are
            job.report = memory.retry_failed(namespace=job.namespace, batch_size=size)
            job.add_progress(job.total)
            return job.report
        docs: list[Any] = job.payload["documents"]
        indexes: list[int] = job.payload.get("indexes") or list(range(len(docs)))
        flags = {k: bool(job.payload.get(k)) for k in ("retry_failed", "replace_sources")}

        def add(part: list[Any], size: int) -> IngestReport:
            return memory.add_many(
                part,
                namespace=job.namespace,
                batch_size=size,
                retry_failed=flags["retry_failed"],
                replace_sources=flags["replace_sources"],
            )

        report = IngestReport()
        for start in range(0, len(docs), size):
            part = docs[start : start + size]
            try:
                got = add(part, size)
            except (InputError, ValueError, OverflowError):
                got = IngestReport()
                for doc, index in zip(part, indexes[start : start + size], strict=True):
                    try:
                        one = add([doc], 1)
                    except (InputError, ValueError, OverflowError) as exc:
                        job.reject(index, _why(index, exc))
                    else:
                        got = merge_reports(got, one)
            report = merge_reports(report, got)
            job.report = report
            job.add_progress(len(part))
        return report

    return run


def _why(index: int, exc: Exception) -> str:
    if isinstance(exc, InputError):
        return f"documents[{index}] could not be stored: {exc}"
    ref = uuid.uuid4().hex[:12]
    log.warning("document %d of an ingest job refused (reference %s)", index, ref, exc_info=exc)
    return f"documents[{index}] could not be stored ({type(exc).__name__}, reference {ref})"
