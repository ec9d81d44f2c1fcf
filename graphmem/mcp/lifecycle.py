"""MCP tools over a memory's lifecycle (issue 22): ``consolidate_memory`` (merge duplicate
entities, fold repeated facts) and ``memory_lifecycle`` (a node's state and history).

Registered by :func:`graphmem.mcp.server.build_server` beside :mod:`graphmem.mcp.tools`.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field

from graphmem.mcp.backend import Backend
from graphmem.mcp.render import result
from graphmem.memory import Memory
from graphmem.models import ConsolidateReport, Lifecycle


def register_lifecycle(server: MCPServer[Any], backend: Backend) -> None:
    """Add the lifecycle tools to ``server``."""

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False))
    async def consolidate_memory(
        dry_run: Annotated[
            bool, Field(description="only report what would merge; change nothing")
        ] = False,
        summaries: Annotated[
            bool, Field(description="also store one summary unit per conversation session")
        ] = False,
    ) -> Annotated[CallToolResult, ConsolidateReport]:
        """Merge duplicate entities ("Priya" into "Priya Natarajan", "UK" into "United Kingdom")
        on alias evidence and fold repeated facts. Every merge is recorded and can be undone;
        nothing is deleted."""

        def run(m: Memory, ns: str) -> ConsolidateReport:
            return m.consolidate(namespace=ns, dry_run=dry_run, summaries=summaries)

        report = await (backend.read(run) if dry_run else backend.write(run))
        verb = "Would merge" if dry_run else "Merged"
        text = f"{verb} {report.merged_entities} duplicate entities and folded {report.folded_facts} facts."
        return result(text, report)

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    async def memory_lifecycle(
        id: Annotated[str, Field(description="a node id from a search (f:…, ep:…, e:…, h:…)")],
    ) -> Annotated[CallToolResult, Lifecycle]:
        """A node's lifecycle: its state (active, superseded, merged, archived), its strength and
        what happened to it, when and why."""
        found = await backend.read(lambda m, ns: m.lifecycle(id.strip(), namespace=ns))
        if found is None:
            raise ToolError(f"no node {id!r} in memory")
        steps = "; ".join(
            f"{e.at:%Y-%m-%d} {e.event}" + (f" ({e.reason})" if e.reason else "")
            for e in found.events
        )
        return result(f"{found.kind} {found.id} is {found.state}. History: {steps}.", found)
