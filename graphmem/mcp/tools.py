"""The MCP tools and resources: thin, typed wrappers over :class:`graphmem.Memory`.

No tool takes a namespace: every call acts on its caller's (see :mod:`graphmem.mcp.backend`).
Bad arguments raise :class:`ToolError`, which the SDK turns into an error result the model
reads (``isError: true``); the server keeps serving.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio.from_thread
from mcp.server.mcpserver import Context, MCPServer, ResourceSecurity
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field

from graphmem.errors import InputError
from graphmem.mcp.backend import Backend, Caller
from graphmem.mcp.render import (
    DeleteOut,
    EntityOut,
    FactsOut,
    IngestOut,
    NoteOut,
    RejectedOut,
    SearchOut,
    delete_result,
    entity_result,
    fact_hit_out,
    facts_result,
    ingest_result,
    note_result,
    search_result,
    stats_result,
)
from graphmem.memory import MAX_K
from graphmem.models import Entity, EpisodeReport, IngestReport, Stats, add_reports
from graphmem.timeparse import parse_iso

if TYPE_CHECKING:
    from graphmem.memory import Memory

log = logging.getLogger(__name__)
R = TypeVar("R", bound=IngestReport)
#: what one bad item raises inside the library (a time past the calendar's end included)
BAD_ITEM = (InputError, ValueError, OverflowError)

MAX_TEXT = 100_000
#: texts per transaction (and per progress notification) in ``add_memories``
BATCH = 16
MAX_ITEMS = 10_000

Ctx = Context[Any, Any]
Text = Annotated[str, Field(description="the text to remember (plain prose works best)")]
Query = Annotated[str, Field(description="a question or keywords, in natural language")]
K = Annotated[
    int,
    Field(
        description=f"how many results (1-{MAX_K})",
        json_schema_extra={"minimum": 1, "maximum": MAX_K},
    ),
]
AsOf = Annotated[
    str | None,
    Field(description="ISO 8601 date or time: answer as the world was then (default: now)"),
]
When = Annotated[
    str | None, Field(description="ISO 8601 date or time the text is about or was said")
]
Source = Annotated[
    str | None,
    Field(description="where the text comes from (a URL, file or id); delete_memory takes it"),
]
Title = Annotated[str | None, Field(description="a title for the text")]


class MemoryItem(BaseModel):
    """One text for ``add_memories``."""

    text: str
    source: str | None = None
    title: str | None = None
    time: str | None = None


class EpisodeItem(BaseModel):
    """One turn or observation for ``add_episodes``."""

    text: str
    speaker: str | None = None
    session: str | None = None
    time: str | None = None


def check_text(text: str, name: str = "text") -> str:
    if not isinstance(text, str) or not text.strip():
        what = "a question or keywords" if name == "query" else "the text to remember"
        raise ToolError(f"{name} is empty: pass {what}")
    if len(text) > MAX_TEXT:
        raise ToolError(f"{name} is {len(text):,} characters; the limit is {MAX_TEXT:,}")
    return text


def check_k(k: int) -> int:
    if not 1 <= k <= MAX_K:
        raise ToolError(f"k must be between 1 and {MAX_K}, got {k}")
    return k


def parse_time(value: str | None, name: str = "time") -> datetime | None:
    """:func:`graphmem.timeparse.parse_iso`, its error as the model's :class:`ToolError`."""
    try:
        return parse_iso(value, name)
    except InputError as exc:
        raise ToolError(str(exc)) from None


def _items(
    items: list[Any], read: Callable[[int, Any], dict[str, Any]], what: str
) -> tuple[list[tuple[int, dict[str, Any]]], list[RejectedOut]]:
    """Each item read by ``read`` (a ToolError rejects that item alone), with its index."""
    kept: list[tuple[int, dict[str, Any]]] = []
    rejected: list[RejectedOut] = []
    for i, item in enumerate(items):
        try:
            kept.append((i, read(i, item)))
        except ToolError as exc:
            rejected.append(RejectedOut(index=i, message=str(exc)))
    if not kept:
        raise ToolError(f"no {what} can be stored: " + "; ".join(r.message for r in rejected[:3]))
    return kept, rejected


def store_batches(
    items: list[tuple[int, dict[str, Any]]],
    add: Callable[[list[dict[str, Any]]], R],
    empty: R,
    *,
    caller: Caller,
    step: Callable[[int], None],
    rejected: list[RejectedOut],
) -> R:
    """``add`` the items :data:`BATCH` at a time (one transaction each; run on the worker).

    A batch that fails on bad input is stored again item by item, so a bad item is rejected
    alone (in ``rejected``, by its index) and the rest is stored, as the API's ``Job.rejected``.
    Between batches the caller's key is asked whether it still holds: once it is revoked no
    further batch is stored, and the ToolError says how many items were.
    """
    report = empty
    for start in range(0, len(items), BATCH):
        if start and not caller.valid():
            log.warning(
                "API key %r revoked during a write: stored the first %d of %d items, no more",
                caller.key_id,
                start,
                len(items),
            )
            raise ToolError(
                f"the API key was revoked: stopped after the first {start} of {len(items)} "
                "items (those are stored; nothing after them)"
            )
        part = items[start : start + BATCH]
        try:
            report = add_reports(report, add([item for _, item in part]))
        except BAD_ITEM:
            for index, item in part:
                try:
                    report = add_reports(report, add([item]))
                except BAD_ITEM as exc:
                    message = f"items[{index}] could not be stored: {exc}"
                    rejected.append(RejectedOut(index=index, message=message))
        step(len(part))
    return report


def _progress(ctx: Ctx, total: int, unit: str) -> Callable[[int], None]:
    """An ``on_progress`` callback (run on the worker thread) that notifies the client."""
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        anyio.from_thread.run(ctx.report_progress, done, total, f"{done}/{total} {unit}")

    return step


def _names(mem: Memory, ns: str, ids: list[str]) -> dict[str, str]:
    found = mem.get_nodes([i for i in ids if i.startswith("e:")], namespace=ns)
    return {i: e.name for i, e in found.items() if isinstance(e, Entity)}


def register(server: MCPServer[Any], backend: Backend) -> None:
    """Add graphmem's tools and resources to ``server``."""
    write = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True)
    read = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(annotations=write)
    async def add_memory(
        ctx: Ctx, text: Text, source: Source = None, time: When = None, title: Title = None
    ) -> Annotated[CallToolResult, IngestOut]:
        """Remember a text (a document, a finding, a note): its entities and facts are extracted
        and linked to what memory already holds. Adding the same text again changes nothing."""
        check_text(text)
        when = parse_time(time)
        await ctx.report_progress(0, 1, "extracting")
        report = await backend.write(
            lambda m, ns: m.add(text, source=source, title=title, time=when, namespace=ns)
        )
        await ctx.report_progress(1, 1, "stored")
        return ingest_result(report)

    @server.tool(annotations=write)
    async def add_memories(
        ctx: Ctx, items: list[MemoryItem]
    ) -> Annotated[CallToolResult, IngestOut]:
        """Remember many texts at once (each: text, source?, title?, time?), with progress
        notifications; one transaction per batch, so an interrupted call can simply be rerun."""
        if not items or len(items) > MAX_ITEMS:
            raise ToolError(f"items must hold 1 to {MAX_ITEMS:,} texts, got {len(items)}")

        def read(i: int, item: MemoryItem) -> dict[str, Any]:
            check_text(item.text, f"items[{i}].text")
            when = parse_time(item.time, f"items[{i}].time")
            return {"text": item.text, "source": item.source, "title": item.title, "time": when}

        docs, rejected = _items(items, read, "text")
        step, caller = _progress(ctx, len(items), "texts"), backend.caller()
        report = await backend.write(
            lambda m, ns: store_batches(
                docs,
                lambda part: m.add_many(part, namespace=ns, batch_size=BATCH),
                IngestReport(),
                caller=caller,
                step=step,
                rejected=rejected,
            )
        )
        return ingest_result(report, rejected=sorted(rejected, key=lambda r: r.index))

    @server.tool(annotations=write)
    async def add_episode(
        ctx: Ctx,
        text: Annotated[str, Field(description="what was said or observed")],
        speaker: Annotated[str | None, Field(description="who said it")] = None,
        session: Annotated[str | None, Field(description="the conversation it belongs to")] = None,
        time: When = None,
    ) -> Annotated[CallToolResult, IngestOut]:
        """Remember one conversation turn or observation at a time (default: now). A later
        episode that changes a fact ends the old one: searches then put the current fact first,
        and ``as_of`` still finds the old one."""
        check_text(text)
        when = parse_time(time) or datetime.now(UTC)
        report = await backend.write(
            lambda m, ns: m.add_episode(
                text, time=when, speaker=speaker, session=session, namespace=ns
            )
        )
        return ingest_result(report)

    @server.tool(annotations=write)
    async def add_episodes(
        ctx: Ctx, items: list[EpisodeItem]
    ) -> Annotated[CallToolResult, IngestOut]:
        """Remember many episodes in order (each: text, speaker?, session?, time?), with
        progress notifications."""
        if not items or len(items) > MAX_ITEMS:
            raise ToolError(f"items must hold 1 to {MAX_ITEMS:,} episodes, got {len(items)}")
        now = datetime.now(UTC)

        def read(i: int, item: EpisodeItem) -> dict[str, Any]:
            check_text(item.text, f"items[{i}].text")
            when = parse_time(item.time, f"items[{i}].time") or now
            return {
                "text": item.text,
                "speaker": item.speaker,
                "session": item.session,
                "time": when,
            }

        eps, rejected = _items(items, read, "episode")
        step, caller = _progress(ctx, len(items), "episodes"), backend.caller()
        report = await backend.write(
            lambda m, ns: store_batches(
                eps,
                lambda part: m.add_episodes(part, namespace=ns, batch_size=BATCH),
                EpisodeReport(),
                caller=caller,
                step=step,
                rejected=rejected,
            )
        )
        return ingest_result(report, rejected=sorted(rejected, key=lambda r: r.index))

    @server.tool(annotations=read)
    async def search_memory(
        query: Query, k: K = 10, as_of: AsOf = None
    ) -> Annotated[CallToolResult, SearchOut]:
        """Search memory: the passages and episodes that answer the question, with the facts and
        the path of entities that linked them (multi-hop questions work). ``as_of``: as it was
        then."""
        check_text(query, "query")
        check_k(k)
        when = parse_time(as_of, "as_of")
        found = await backend.read(lambda m, ns: m.search(query, k=k, as_of=when, namespace=ns))
        return search_result(query, found, k)

    @server.tool(annotations=read)
    async def search_facts(
        query: Query,
        k: K = 10,
        as_of: AsOf = None,
        include_ended: Annotated[
            bool, Field(description="also facts that no longer hold (history)")
        ] = False,
    ) -> Annotated[CallToolResult, FactsOut]:
        """Search the facts (subject, predicate, object, validity) that answer the question,
        those that hold now (or at ``as_of``) first."""
        check_text(query, "query")
        check_k(k)
        when = parse_time(as_of, "as_of")
        found = await backend.read(
            lambda m, ns: m.search_facts(
                query, k=k, as_of=when, namespace=ns, include_ended=include_ended
            )
        )
        return facts_result(query, [fact_hit_out(hit) for hit in found])

    def entity(m: Memory, ns: str, name_or_id: str) -> CallToolResult:
        found = m.get_entity(name_or_id, namespace=ns)
        if found is None:
            raise ToolError(f"no entity {name_or_id!r} in memory (search_memory finds names)")
        facts = m.facts_of(found.id, namespace=ns)
        names = _names(m, ns, [i for f in facts for i in (f.subject, f.object)])
        return entity_result(found, facts, names, m.neighbors(found.id, namespace=ns, limit=30))

    @server.tool(annotations=read)
    async def get_entity(
        name_or_id: Annotated[str, Field(description="an entity name, or its id (e:…)")],
    ) -> Annotated[CallToolResult, EntityOut]:
        """One entity: its facts (current ones first) and the nodes it is linked to."""
        check_text(name_or_id, "name_or_id")
        return await backend.read(lambda m, ns: entity(m, ns, name_or_id.strip()))

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True))
    async def delete_memory(
        source: Annotated[str, Field(description="the source given when the text was added")],
    ) -> Annotated[CallToolResult, DeleteOut]:
        """Forget everything added under ``source``: its passages and episodes, and the entities
        and facts only they supported (what other texts also state stays)."""
        check_text(source, "source")
        report = await backend.write(lambda m, ns: m.delete(source=source, namespace=ns))
        if not any(report.model_dump().values()):
            raise ToolError(f"nothing in memory was added under source {source!r}")
        return delete_result(source, report)

    @server.tool(annotations=write)
    async def add_note(
        text: Annotated[str, Field(description="a note joining the entities it names")],
    ) -> Annotated[CallToolResult, NoteOut]:
        """Store a note that ties together the entities it mentions (one memory unit that a later
        search can reach from any of them)."""
        check_text(text)

        def note(m: Memory, ns: str) -> CallToolResult:
            stored = m.add_note(text, namespace=ns)
            return note_result(stored, _names(m, ns, list(stored.members)))

        return await backend.write(note)

    @server.tool(annotations=read)
    async def stats() -> Annotated[CallToolResult, Stats]:
        """How much memory holds: passages, entities, facts, episodes, notes, edges."""
        return stats_result(await backend.read(lambda m, ns: m.stats(namespace=ns)))

    @server.resource(
        "graphmem://entity/{id}",
        name="entity",
        mime_type="application/json",
        description="An entity with its facts and neighbours, as JSON",
        # an id (e:…) or a name is looked up in the store, never used as a path; "e:" would
        # otherwise read as a drive letter
        security=ResourceSecurity(exempt_params={"id"}),
    )
    async def entity_resource(id: str, ctx: Ctx) -> str:
        try:
            answer = await backend.read(lambda m, ns: entity(m, ns, id))
        except ToolError as exc:
            raise ResourceError(str(exc)) from exc
        return json.dumps(answer.structured_content)

    @server.resource(
        "graphmem://stats",
        name="stats",
        mime_type="application/json",
        description="Counts of what memory holds in this namespace, as JSON",
    )
    async def stats_resource() -> str:
        try:
            found = await backend.read(lambda m, ns: m.stats(namespace=ns))
        except ToolError as exc:
            raise ResourceError(str(exc)) from exc
        return found.model_dump_json()
