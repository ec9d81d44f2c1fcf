# mypy: disallow-untyped-decorators=False
# (strawberry.mutation is untyped when it decorates a resolver)
"""The mutations that give a remote client the rest of ``Memory``'s writes: ``addEpisodes``,
``addNote``, ``consolidate`` and ``deletePrefix`` (see :mod:`graphmem.operations`; ``retryFailed``, a job, is
beside ``ingest``).

:class:`MemoryMutations` is a base of the schema's ``Mutation``; each resolver calls the one
``Memory`` method it is named after, on a worker thread.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from graphmem.models import ConsolidateReport as ConsolidateModel
from graphmem.models import EpisodeIn, EpisodeReport
from graphmem_api import types as t
from graphmem_api.context import Context
from graphmem_api.errors import BAD_REQUEST, LIMIT_EXCEEDED, APIError
from graphmem_api.limits import Limits, check_range

Info = strawberry.Info[Context, None]


@strawberry.input(description="One observation or conversation turn to record.")
class EpisodeInput:
    text: str
    time: datetime | None = None
    speaker: str | None = None
    session: str | None = None
    source: str | None = None
    metadata: JSON | None = None


def checked_episodes(limits: Limits, episodes: list[EpisodeInput]) -> list[EpisodeIn]:
    """The episodes to record, after the limits an ingest has (count, text size, empty text)."""
    if not episodes:
        raise APIError("episodes is empty", BAD_REQUEST)
    if len(episodes) > limits.max_documents:
        raise APIError(
            f"{len(episodes):,} episodes in one request; the limit is {limits.max_documents:,}",
            LIMIT_EXCEEDED,
        )
    out = []
    for i, e in enumerate(episodes):
        if len(e.text) > limits.max_document_chars:
            raise APIError(
                f"episodes[{i}].text is {len(e.text):,} characters; the limit is "
                f"{limits.max_document_chars:,}",
                LIMIT_EXCEEDED,
            )
        if not e.text.strip():
            raise APIError(f"episodes[{i}].text is empty", BAD_REQUEST)
        if e.metadata is not None and not isinstance(e.metadata, dict):
            raise APIError(f"episodes[{i}].metadata must be a JSON object", BAD_REQUEST)
        out.append(
            EpisodeIn(
                text=e.text,
                time=e.time,
                speaker=e.speaker,
                session=e.session,
                source=e.source,
                metadata=dict(e.metadata or {}),
            )
        )
    return out


def to_episode_report(report: EpisodeReport) -> t.EpisodeReport:
    data = report.model_dump()
    names = [f.name for f in dataclasses.fields(t.EpisodeReport)]
    return t.EpisodeReport(**{name: data.get(name, 0) for name in names})


@strawberry.type(description="What a consolidation merged (or would, in a dry run).")
class ConsolidateReport:
    dry_run: bool
    merged_entities: int
    folded_facts: int
    session_units: int = strawberry.field(description="session summaries written")
    merges: list[JSON] = strawberry.field(description="{id, into, kind, evidence} per merge")


def to_consolidate_report(report: ConsolidateModel) -> ConsolidateReport:
    return ConsolidateReport(
        dry_run=report.dry_run,
        merged_entities=report.merged_entities,
        folded_facts=report.folded_facts,
        session_units=report.session_units,
        merges=[cast(JSON, x) for x in report.merges],
    )


@strawberry.type
class MemoryMutations:
    @strawberry.mutation(
        description="Record many observations or turns, one transaction per batch (in order)."
    )
    async def add_episodes(
        self,
        info: Info,
        episodes: list[EpisodeInput],
        namespace: str | None = None,
        batch_size: int = 64,
    ) -> t.EpisodeReport:
        ctx = info.context
        ns = ctx.namespace(namespace, write=True)
        check_range("batchSize", batch_size, 1, 1_000)
        items = checked_episodes(ctx.limits, episodes)
        report = await ctx.runtime.call(
            ctx.memory.add_episodes, items, namespace=ns, batch_size=batch_size
        )
        return to_episode_report(report)

    @strawberry.mutation(
        description="Store a note joining entities (by name or id; default: those the text "
        "names); returns the hyperedge it became or merged into."
    )
    async def add_note(
        self,
        info: Info,
        text: str,
        members: list[str] | None = None,
        namespace: str | None = None,
    ) -> t.Hyperedge:
        ctx = info.context
        ns = ctx.namespace(namespace, write=True)
        if len(text) > ctx.limits.max_document_chars:
            raise APIError(
                f"text is {len(text):,} characters; the limit is {ctx.limits.max_document_chars:,}",
                LIMIT_EXCEEDED,
            )
        if members is not None and len(members) > ctx.limits.max_page_size:
            raise APIError(
                f"{len(members)} members; the limit is {ctx.limits.max_page_size}", LIMIT_EXCEEDED
            )
        unit = await ctx.runtime.call(ctx.memory.add_note, text, members=members, namespace=ns)
        return t.to_hyperedge(unit)

    @strawberry.mutation(
        description="Merge duplicate entities on alias evidence and fold repeated facts; each "
        "merge is recorded in the nodes' lifecycle and undone by a restore (nothing is deleted). "
        "`summaries`: also a memory unit per session of episodes (extractive)."
    )
    async def consolidate(
        self,
        info: Info,
        namespace: str | None = None,
        dry_run: bool = False,
        summaries: bool = False,
    ) -> ConsolidateReport:
        ctx = info.context
        ns = ctx.namespace(namespace, write=not dry_run)
        report = await ctx.runtime.call(
            ctx.memory.consolidate, namespace=ns, dry_run=dry_run, summaries=summaries
        )
        return to_consolidate_report(report)

    @strawberry.mutation(
        description="Delete every source that starts with `prefix`, and what only they supported."
    )
    async def delete_prefix(
        self, info: Info, prefix: str, namespace: str | None = None
    ) -> t.DeleteReport:
        ctx = info.context
        ns = ctx.namespace(namespace, write=True)
        report = await ctx.runtime.call(ctx.memory.delete_prefix, prefix, namespace=ns)
        return t.DeleteReport(**report.model_dump())
