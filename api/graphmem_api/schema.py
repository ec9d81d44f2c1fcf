# mypy: disallow-untyped-decorators=False
# (strawberry.field is untyped when it decorates a resolver)
"""The GraphQL schema: queries, mutations and the job-progress subscription.

``schema`` is built with the default limits, for ``strawberry export-schema
graphmem_api.schema:schema``; a server builds its own with :func:`build_schema` and its limits.

>>> "search(" in str(schema)
True
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from operator import methodcaller

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.scalars import JSON
from strawberry.types.execution import ExecutionContext
from strawberry.types.scalar import ScalarDefinition

from graphmem import models as m
from graphmem.errors import InputError
from graphmem.timeparse import parse_iso
from graphmem_api import types as t
from graphmem_api.context import Context
from graphmem_api.errors import (
    BAD_REQUEST,
    LIMIT_EXCEEDED,
    NOT_FOUND,
    NOT_IMPLEMENTED,
    APIError,
    ErrorCodes,
)
from graphmem_api.guard import UnicodeArguments, checked_documents
from graphmem_api.jobs import Job as RunnerJob
from graphmem_api.limits import Limits, check_range, limit_extensions
from graphmem_api.mutations import MemoryMutations
from graphmem_api.results import to_search_result

Info = strawberry.Info[Context, None]
DEFAULT_INCLUDES = tuple(i for i in t.Include if i is not t.Include.CONTEXT)


# ------------------------------------------------------------------------------- helpers


def _not_found(what: str, node_id: str, namespace: str) -> APIError:
    return APIError(f"no {what} with id {node_id!r} in namespace {namespace!r}", NOT_FOUND)


def to_job(job: RunnerJob) -> t.Job:
    report = job.report
    return t.Job(
        id=strawberry.ID(job.id),
        namespace=job.namespace,
        status=t.JobStatus(job.status.value),
        total=job.total,
        done=job.done,
        progress=job.progress,
        report=t.IngestReport(**report.model_dump()) if report is not None else None,
        error=t.JobError(message=job.error, code=job.error_code or "INTERNAL")
        if job.error
        else None,
        rejected=[t.RejectedDocument(index=r.index, message=r.message) for r in job.rejected],
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def _visible_job(ctx: Context, job_id: str) -> RunnerJob:
    job = ctx.runtime.jobs.get(job_id)
    # Another namespace's job is reported as absent: its existence is not the caller's business.
    if job is None or not ctx.caller.allows(job.namespace):
        raise APIError(f"no job with id {job_id!r}", NOT_FOUND)
    return job


# ------------------------------------------------------------------------------- operations


@strawberry.type
class Query:
    @strawberry.field(description="Ranked passages, facts, entities... answering a question.")
    async def search(
        self,
        info: Info,
        question: str,
        k: int = 5,
        namespace: str | None = None,
        as_of: datetime | None = None,
        between: t.TimeRange | None = None,
        include: list[t.Include] | None = None,
    ) -> t.SearchResult:
        ctx = info.context
        ns = ctx.namespace(namespace)
        # The server's own limits, tighter than the core's; the search core checks the rest
        # (an empty question, the units, the time range) with the same messages for every caller.
        if len(question) > ctx.limits.max_question_chars:
            raise APIError(
                f"the question is {len(question):,} characters; the limit is "
                f"{ctx.limits.max_question_chars:,}",
                LIMIT_EXCEEDED,
            )
        check_range("k", k, 1, ctx.limits.max_k)
        result = await ctx.runtime.call(
            ctx.memory.search,
            question,
            k=k,
            namespace=ns,
            as_of=as_of,
            between=(between.start, between.end) if between else None,
            include=[i.value for i in include] if include is not None else None,
        )
        return to_search_result(result, tuple(include) if include is not None else DEFAULT_INCLUDES)

    @strawberry.field(description="An entity by id, or by name (matched after normalization).")
    async def entity(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        name: str | None = None,
        namespace: str | None = None,
    ) -> t.Entity:
        ctx = info.context
        ns = ctx.namespace(namespace)
        if (id is None) == (name is None):
            raise APIError("give exactly one of id and name")
        if id is not None:
            found = await ctx.loaders(ns).nodes.load(str(id))
        else:
            found = await ctx.runtime.call(ctx.memory.get_entity, str(name), namespace=ns)
        if not isinstance(found, m.Entity):
            raise _not_found("entity", str(id if id is not None else name), ns)
        return t.to_entity(found)

    @strawberry.field(description="A passage by id.")
    async def passage(
        self, info: Info, id: strawberry.ID, namespace: str | None = None
    ) -> t.Passage:
        ns = info.context.namespace(namespace)
        found = await info.context.loaders(ns).nodes.load(str(id))
        if not isinstance(found, m.Passage):
            raise _not_found("passage", str(id), ns)
        return t.to_passage(found)

    @strawberry.field(description="An episode by id.")
    async def episode(
        self, info: Info, id: strawberry.ID, namespace: str | None = None
    ) -> t.Episode:
        ns = info.context.namespace(namespace)
        found = await info.context.loaders(ns).nodes.load(str(id))
        if not isinstance(found, m.Episode):
            raise _not_found("episode", str(id), ns)
        return t.to_episode(found)

    @strawberry.field(
        description="Any node by id (passage, entity, fact, event, hyperedge, episode)."
    )
    async def node(self, info: Info, id: strawberry.ID, namespace: str | None = None) -> t.Node:
        ns = info.context.namespace(namespace)
        found = t.to_node(await info.context.loaders(ns).nodes.load(str(id)))
        if found is None:
            raise _not_found("node", str(id), ns)
        return found

    @strawberry.field(
        description="Nodes up to `depth` (1-3) hops from a node, paginated by cursor."
    )
    async def neighbors(
        self,
        info: Info,
        id: strawberry.ID,
        depth: int = 1,
        first: int = 20,
        after: str | None = None,
        namespace: str | None = None,
    ) -> t.NeighborConnection:
        ns = info.context.namespace(namespace)
        return await t.neighbor_connection(info.context, ns, str(id), depth, first, after)

    @strawberry.field(description="Counts of what a namespace holds.")
    async def stats(self, info: Info, namespace: str | None = None) -> t.Stats:
        ctx = info.context
        ns = ctx.namespace(namespace)
        found = await ctx.runtime.call(ctx.memory.stats, ns)
        return t.Stats(**found.model_dump())

    @strawberry.field(description="An ingest job, by the id `ingest` returned.")
    def job(self, info: Info, id: strawberry.ID) -> t.Job:
        return to_job(_visible_job(info.context, str(id)))

    @strawberry.field(description="The caller: its key and namespaces.")
    def viewer(self, info: Info) -> t.Viewer:
        p = info.context.caller
        return t.Viewer(
            key_id=p.key_id,
            namespaces=sorted(p.namespaces) if p.namespaces is not None else None,
            read_only=p.read_only,
            default_namespace=p.default_namespace,
        )


@strawberry.type
class Mutation(MemoryMutations):
    @strawberry.mutation(description="Queue documents for ingest; returns the job to poll.")
    def ingest(
        self,
        info: Info,
        documents: list[t.DocumentInput],
        namespace: str | None = None,
        batch_size: int = 64,
        retry_failed: bool = False,
        replace_sources: bool = False,
    ) -> t.Job:
        ctx = info.context
        ns = ctx.namespace(namespace, write=True)
        check_range("batchSize", batch_size, 1, 1_000)
        docs, indexes, rejected = checked_documents(ctx.limits, documents)
        job = ctx.runtime.jobs.submit(
            ns,
            {
                "documents": docs,
                "indexes": indexes,
                "batch_size": batch_size,
                "retry_failed": retry_failed,
                "replace_sources": replace_sources,
            },
            total=len(documents),
            owner=ctx.caller.key_id,
            rejected=rejected,
        )
        return to_job(job)

    @strawberry.mutation(
        description="Queue the extraction of every passage whose extraction failed, again; "
        "returns the job to poll."
    )
    async def retry_failed(
        self, info: Info, namespace: str | None = None, batch_size: int = 64
    ) -> t.Job:
        ctx = info.context
        ns = ctx.namespace(namespace, write=True)
        check_range("batchSize", batch_size, 1, 1_000)
        failed = (await ctx.runtime.call(ctx.memory.stats, ns)).failed_passages
        job = ctx.runtime.jobs.submit(
            ns, {"retry": True, "batch_size": batch_size}, total=failed, owner=ctx.caller.key_id
        )
        return to_job(job)

    @strawberry.mutation(
        description="Record one observation or conversation turn (episodic memory)."
    )
    async def add_episode(
        self,
        info: Info,
        text: str,
        time: datetime | None = None,
        speaker: str | None = None,
        session: str | None = None,
        source: str | None = None,
        metadata: JSON | None = None,
        namespace: str | None = None,
    ) -> t.EpisodeReport:
        ctx = info.context
        ns = ctx.namespace(namespace, write=True)
        add = getattr(ctx.memory, "add_episode", None)
        if add is None:
            raise APIError("episodic memory is not available on this server", NOT_IMPLEMENTED)
        if not text.strip():
            raise APIError("text is empty", BAD_REQUEST)
        if len(text) > ctx.limits.max_document_chars:
            raise APIError(
                f"text is {len(text):,} characters; the limit is {ctx.limits.max_document_chars:,}",
                LIMIT_EXCEEDED,
            )
        if metadata is not None and not isinstance(metadata, dict):
            raise APIError("metadata must be a JSON object", BAD_REQUEST)
        report = await ctx.runtime.call(
            add,
            text,
            time=time,
            speaker=speaker,
            session=session,
            source=source,
            metadata=dict(metadata or {}),
            namespace=ns,
        )
        data = report.model_dump()
        names = [f.name for f in dataclasses.fields(t.EpisodeReport)]
        return t.EpisodeReport(**{name: data.get(name, 0) for name in names})

    @strawberry.mutation(description="Delete a source's passages and what only they supported.")
    async def delete_source(
        self, info: Info, source: str, namespace: str | None = None
    ) -> t.DeleteReport:
        ctx = info.context
        ns = ctx.namespace(namespace, write=True)
        report = await ctx.runtime.call(ctx.memory.delete, source=source, namespace=ns)
        return t.DeleteReport(**report.model_dump())

    @strawberry.mutation(description="Delete everything in a namespace.")
    async def delete_namespace(self, info: Info, namespace: str) -> t.DeleteReport:
        ctx = info.context
        ns = ctx.namespace(namespace, write=True)
        report = await ctx.runtime.call(ctx.memory.delete_namespace, ns)
        return t.DeleteReport(**report.model_dump())


@strawberry.type
class Subscription:
    @strawberry.subscription(description="The job each time it changes, until it has finished.")
    async def job_progress(
        self, info: Info, id: strawberry.ID, interval: float = 0.2
    ) -> AsyncGenerator[t.Job, None]:
        ctx = info.context
        job = _visible_job(ctx, str(id))
        pause = min(max(interval, 0.05), 10.0)
        seen = -1
        while True:
            if job.version != seen:
                seen = job.version
                yield to_job(job)
            if job.status.finished:
                return
            await asyncio.sleep(pause)


class _Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Not logged here: :class:`ErrorCodes` logs the unexpected ones, with a reference."""


def _read_time(value: object) -> datetime:
    """A DateTime argument, read as the CLI, MCP and the library read a time
    (:func:`graphmem.timeparse.parse_iso`: ``Z`` or an offset, UTC when no zone is given)."""
    when = parse_iso(value, "DateTime") if isinstance(value, str) else None
    if when is None:
        raise InputError(
            f"DateTime: expected ISO 8601 text such as 2024-03-01T10:00Z, got {value!r:.80}"
        )
    return when


#: strawberry's DateTime, its input read by graphmem's one ISO 8601 reader
DATETIME = ScalarDefinition(
    name="DateTime",
    description="Date with time (isoformat)",
    specified_by_url=None,
    serialize=methodcaller("isoformat"),
    parse_value=_read_time,
    parse_literal=None,
    origin=datetime,
)


def build_schema(limits: Limits | None = None) -> strawberry.Schema:
    """The schema, with the extensions that code errors and enforce ``limits``."""
    extensions: list[Callable[[], SchemaExtension]] = [ErrorCodes, UnicodeArguments]
    extensions += limit_extensions(limits or Limits())
    return _Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[t.Passage, t.Entity, t.Fact, t.Event, t.Hyperedge, t.Episode],
        extensions=extensions,
        scalar_overrides={datetime: DATETIME},
    )


schema = build_schema()


if __name__ == "__main__":  # `python -m graphmem_api.schema > schema/schema.graphql`
    print(schema.as_str())
