"""What :class:`graphmem.Client` and :class:`graphmem.AsyncClient` share: everything but the I/O.

Each operation is a generator that yields what it needs done (a GraphQL request, or a pause while
a job runs) and returns the result; the sync and async clients only drive it, with
``httpx.Client`` and ``time.sleep`` or ``httpx.AsyncClient`` and ``asyncio.sleep``. Queries select
every field of the pydantic model they parse into, so answers come back as the very models
:class:`graphmem.Memory` returns.

>>> selection(Stats).split()[:3]
['namespace', 'passages', 'entities']
"""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, Union

from pydantic import BaseModel, ValidationError

from graphmem.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    InputError,
    JobTimeout,
    LimitExceeded,
    NotSupported,
    PermissionDenied,
    RemoteError,
    RemoteInputError,
    RemoteNotFound,
    Unavailable,
)
from graphmem.models import (
    DeleteReport,
    Document,
    Entity,
    Episode,
    EpisodeReport,
    IngestReport,
    Neighbor,
    Passage,
    SearchResult,
    Stats,
)

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")
DocumentLike = Document | str | Mapping[str, Any]

DEFAULT_URL = "http://127.0.0.1:8000/graphql"
#: the server's largest page of neighbours (``Limits.max_page_size``)
PAGE = 100


# ------------------------------------------------------------------------------- errors

_BY_CODE: dict[str, type[RemoteError]] = {
    c.code: c
    for c in (
        RemoteInputError,
        LimitExceeded,
        RemoteNotFound,
        AuthenticationFailed,
        PermissionDenied,
        NotSupported,
        Unavailable,
    )
}


def error_for(code: str | None, message: str) -> RemoteError:
    """The exception for a GraphQL error code (``RemoteError`` for unknown codes)."""
    cls = _BY_CODE.get(code or "", RemoteError)
    err = cls(message)
    if cls is RemoteError:
        err.code = code or "INTERNAL"
    return err


# ------------------------------------------------------------------------------- models <-> GraphQL


def camel(name: str) -> str:
    """``dense_score`` -> ``denseScore`` (strawberry's auto camel case)."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _submodel(arg)
            if found is not None:
                return found
    return None


@functools.cache
def _plan(model: type[BaseModel]) -> tuple[tuple[str, str, type[BaseModel] | None], ...]:
    """(field name, GraphQL name, nested model) for each field of ``model``."""
    return tuple(
        (name, camel(name), _submodel(info.annotation)) for name, info in model.model_fields.items()
    )


def selection(model: type[BaseModel]) -> str:
    """The GraphQL selection of every field of ``model`` (nested models included)."""
    return " ".join(f"{key} {{ {selection(sub)} }}" if sub else key for _, key, sub in _plan(model))


def _snake(model: type[BaseModel], data: Mapping[str, Any]) -> dict[str, Any]:
    # JSON fields (metadata, usage...) keep their own keys: only model fields are renamed.
    values: dict[str, Any] = {}
    for name, key, sub in _plan(model):
        if key not in data:
            continue
        value = data[key]
        if sub is not None and value is not None:
            value = (
                [_snake(sub, v) for v in value] if isinstance(value, list) else _snake(sub, value)
            )
        values[name] = value
    return values


def parse(model: type[M], data: Mapping[str, Any]) -> M:
    """``model`` from a GraphQL answer selected with :func:`selection`."""
    try:
        return model.model_validate(_snake(model, data))
    except ValidationError as exc:
        raise RemoteError(f"the server's answer does not fit {model.__name__}: {exc}") from exc


def _document(doc: DocumentLike, index: int) -> dict[str, Any]:
    if isinstance(doc, str):
        doc = Document(text=doc)
    elif not isinstance(doc, Document):
        try:
            doc = Document.model_validate(doc)
        except ValidationError as exc:
            raise InputError(f"not a document: {exc}", field=f"docs[{index}]") from exc
    return {
        "text": doc.text,
        "source": doc.source,
        "title": doc.title,
        "time": doc.time.isoformat() if doc.time else None,
        "metadata": doc.metadata or None,
    }


# ------------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Request:
    """One GraphQL request to make."""

    query: str
    variables: dict[str, Any] = field(default_factory=dict)

    def body(self) -> bytes:
        return json.dumps({"query": self.query, "variables": self.variables}, default=str).encode()


@dataclass(frozen=True)
class Pause:
    """Wait this long before the next request (the driver sleeps its own way)."""

    seconds: float


Step = Request | Pause
Op = Generator[Step, Any, R]


class JobInfo(BaseModel):
    """An ingest job as the server reports it."""

    id: str
    namespace: str
    status: str
    total: int
    done: int
    progress: float
    report: IngestReport | None = None
    error: dict[str, str] | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


_JOB = (
    "id namespace status total done progress error { message code } createdAt startedAt "
    f"finishedAt report {{ {selection(IngestReport)} }}"
)
_Q_SEARCH = (
    "query Search($question: String!, $k: Int!, $namespace: String, $asOf: DateTime, "
    "$between: TimeRange, $include: [Include!]) { search(question: $question, k: $k, "
    "namespace: $namespace, asOf: $asOf, between: $between, include: $include) "
    f"{{ {selection(SearchResult)} }} }}"
)
_Q_INGEST = (
    "mutation Ingest($documents: [DocumentInput!]!, $namespace: String, $batchSize: Int!) "
    "{ ingest(documents: $documents, namespace: $namespace, batchSize: $batchSize) { id } }"
)
_Q_JOB = f"query Job($id: ID!) {{ job(id: $id) {{ {_JOB} }} }}"
_Q_ENTITY = (
    "query Entity($id: ID, $name: String, $namespace: String) "
    f"{{ entity(id: $id, name: $name, namespace: $namespace) {{ {selection(Entity)} }} }}"
)
_Q_PASSAGE = (
    "query Passage($id: ID!, $namespace: String) "
    f"{{ passage(id: $id, namespace: $namespace) {{ {selection(Passage)} }} }}"
)
_Q_EPISODE = (
    "query Episode($id: ID!, $namespace: String) "
    f"{{ episode(id: $id, namespace: $namespace) {{ {selection(Episode)} }} }}"
)
_Q_NEIGHBORS = (
    "query Neighbors($id: ID!, $first: Int!, $after: String, $namespace: String) "
    "{ neighbors(id: $id, depth: 1, first: $first, after: $after, namespace: $namespace) "
    f"{{ pageInfo {{ hasNextPage endCursor }} edges {{ {selection(Neighbor)} }} }} }}"
)
_Q_STATS = (
    f"query Stats($namespace: String) {{ stats(namespace: $namespace) {{ {selection(Stats)} }} }}"
)
_Q_DELETE = (
    "mutation DeleteSource($source: String!, $namespace: String) "
    f"{{ deleteSource(source: $source, namespace: $namespace) {{ {selection(DeleteReport)} }} }}"
)
_Q_DELETE_NS = (
    "mutation DeleteNamespace($namespace: String!) "
    f"{{ deleteNamespace(namespace: $namespace) {{ {selection(DeleteReport)} }} }}"
)
_Q_EPISODE_ADD = (
    "mutation AddEpisode($text: String!, $time: DateTime, $speaker: String, $session: String, "
    "$source: String, $metadata: JSON, $namespace: String) { addEpisode(text: $text, "
    "time: $time, speaker: $speaker, session: $session, source: $source, metadata: $metadata, "
    "namespace: $namespace) { %s } }"
)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


class ClientCore:
    """Request building and answer parsing for one server, key and default namespace."""

    def __init__(
        self, url: str = DEFAULT_URL, *, api_key: str | None = None, namespace: str | None = None
    ) -> None:
        url = url.rstrip("/")
        self.url = url if url.endswith("/graphql") else url + "/graphql"
        self.namespace = namespace
        self.headers = {"content-type": "application/json", "accept": "application/json"}
        if api_key:
            self.headers["authorization"] = f"Bearer {api_key}"

    def _ns(self, namespace: str | None) -> str | None:
        return namespace if namespace is not None else self.namespace

    # -- answers ------------------------------------------------------------------------------
    def decode(self, status: int, content: bytes) -> dict[str, Any]:
        """The ``data`` of an answer, or the mapped exception of its first error."""
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            text = content[:200].decode("utf-8", "replace")
            raise ConnectionFailed(f"the server answered HTTP {status} without GraphQL: {text!r}")
        errors = body.get("errors")
        if errors:
            first = errors[0] if isinstance(errors[0], dict) else {}
            ext = first.get("extensions") or {}
            err = error_for(ext.get("code"), str(first.get("message", "unknown error")))
            err.errors = list(errors)
            raise err
        data = body.get("data")
        if not isinstance(data, dict):
            raise RemoteError(f"the server answered HTTP {status} with no data")
        return data

    # -- operations ---------------------------------------------------------------------------
    def search(
        self,
        question: str,
        *,
        k: int,
        namespace: str | None,
        as_of: datetime | None,
        between: tuple[datetime | None, datetime | None] | None = None,
        include: Iterable[str] | None = None,
    ) -> Op[SearchResult]:
        span = None
        if between is not None:
            start, end = between
            span = {"start": _iso(start), "end": _iso(end)}
        units = [include] if isinstance(include, str) else include
        data = yield Request(
            _Q_SEARCH,
            {
                "question": question,
                "k": k,
                "namespace": self._ns(namespace),
                "asOf": _iso(as_of),
                "between": span,
                "include": [u.upper() for u in units] if units is not None else None,
            },
        )
        return parse(SearchResult, data["search"])

    def add_many(
        self,
        docs: Iterable[DocumentLike],
        *,
        namespace: str | None,
        batch_size: int,
        progress: bool,
        wait: bool,
        timeout: float | None,
        poll_interval: float,
    ) -> Op[IngestReport | str]:
        documents = [_document(d, i) for i, d in enumerate(docs)]
        data = yield Request(
            _Q_INGEST,
            {"documents": documents, "namespace": self._ns(namespace), "batchSize": batch_size},
        )
        job_id: str = data["ingest"]["id"]
        if not wait:
            return job_id
        return (
            yield from self.wait(
                job_id, timeout=timeout, poll_interval=poll_interval, progress=progress
            )
        )

    def job(self, job_id: str) -> Op[JobInfo]:
        data = yield Request(_Q_JOB, {"id": job_id})
        return parse(JobInfo, data["job"])

    def wait(
        self, job_id: str, *, timeout: float | None, poll_interval: float, progress: bool = False
    ) -> Op[IngestReport]:
        """Poll the job until it has finished; its report, or the error it failed with."""
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(desc="ingest", unit="doc")
        waited, pause = 0.0, min(0.05, poll_interval)
        try:
            while True:
                info = yield from self.job(job_id)
                if bar is not None:
                    bar.total = info.total
                    bar.update(info.done - bar.n)
                if info.status == "SUCCEEDED":
                    return info.report or IngestReport()
                if info.status in ("FAILED", "CANCELLED"):
                    err = info.error or {}
                    raise error_for(
                        err.get("code"), f"ingest job {job_id} failed: {err.get('message')}"
                    )
                if timeout is not None and waited >= timeout:
                    raise JobTimeout(f"ingest job {job_id} still {info.status} after {timeout:g} s")
                yield Pause(pause)
                waited += pause
                pause = min(poll_interval, pause * 2)
        finally:
            if bar is not None:
                bar.close()

    def get_entity(self, id_or_name: str, *, namespace: str | None) -> Op[Entity | None]:
        by_id = id_or_name.startswith("e:")
        variables = {"id": id_or_name if by_id else None, "name": None if by_id else id_or_name}
        try:
            data = yield Request(_Q_ENTITY, {**variables, "namespace": self._ns(namespace)})
        except RemoteNotFound:
            return None
        return parse(Entity, data["entity"])

    def get_passage(self, passage_id: str, *, namespace: str | None) -> Op[Passage | None]:
        try:
            data = yield Request(_Q_PASSAGE, {"id": passage_id, "namespace": self._ns(namespace)})
        except RemoteNotFound:
            return None
        return parse(Passage, data["passage"])

    def get_episode(self, episode_id: str, *, namespace: str | None) -> Op[Episode | None]:
        try:
            data = yield Request(_Q_EPISODE, {"id": episode_id, "namespace": self._ns(namespace)})
        except RemoteNotFound:
            return None
        return parse(Episode, data["episode"])

    def neighbors(self, node_id: str, *, namespace: str | None, limit: int) -> Op[list[Neighbor]]:
        out: list[Neighbor] = []
        after: str | None = None
        while len(out) < limit:
            try:
                data = yield Request(
                    _Q_NEIGHBORS,
                    {
                        "id": node_id,
                        "first": min(PAGE, limit - len(out)),
                        "after": after,
                        "namespace": self._ns(namespace),
                    },
                )
            except RemoteNotFound:
                return out  # as Memory.neighbors: an unknown node has no neighbours
            conn = data["neighbors"]
            out.extend(parse(Neighbor, e) for e in conn["edges"])
            if not conn["pageInfo"]["hasNextPage"]:
                break
            after = conn["pageInfo"]["endCursor"]
        return out

    def stats(self, namespace: str | None) -> Op[Stats]:
        data = yield Request(_Q_STATS, {"namespace": self._ns(namespace)})
        return parse(Stats, data["stats"])

    def delete(self, *, source: str, namespace: str | None) -> Op[DeleteReport]:
        data = yield Request(_Q_DELETE, {"source": source, "namespace": self._ns(namespace)})
        return parse(DeleteReport, data["deleteSource"])

    def delete_namespace(self, namespace: str) -> Op[DeleteReport]:
        data = yield Request(_Q_DELETE_NS, {"namespace": namespace})
        return parse(DeleteReport, data["deleteNamespace"])

    def add_episode(
        self,
        text: str,
        *,
        time: datetime | str | None,
        speaker: str | None,
        session: str | int | None,
        source: str | None,
        metadata: dict[str, Any] | None,
        namespace: str | None,
    ) -> Op[EpisodeReport]:
        when = time if isinstance(time, str) or time is None else time.isoformat()
        data = yield Request(
            _Q_EPISODE_ADD % selection(EpisodeReport),
            {
                "text": text,
                "time": when,
                "speaker": speaker,
                "session": str(session) if session is not None else None,
                "source": source,
                "metadata": metadata,
                "namespace": self._ns(namespace),
            },
        )
        return parse(EpisodeReport, data["addEpisode"])
