"""The lifecycle MCP tools for real (issue 22): ``memory_lifecycle`` shows a superseded fact's
history, ``consolidate_memory`` merges a duplicate entity (a dry run changes nothing)."""

from __future__ import annotations

from pathlib import Path

import anyio

from support.mcp import stdio_client, text

EPISODES = [
    {"text": "I live in Lisbon.", "speaker": "Ada", "session": "s1", "time": "2020-01-10T10:00:00Z"},
    {"text": "Big news: I moved to Porto last week.", "speaker": "Ada", "session": "s2",
     "time": "2021-06-01T10:00:00Z"},
]  # fmt: skip


def test_lifecycle_and_consolidation_tools(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'm.db'}"

    async def main() -> None:
        async with stdio_client(store, "agent-1") as c:
            tools = {t.name: t for t in (await c.list_tools()).tools}
            assert {"memory_lifecycle", "consolidate_memory"} <= set(tools)
            for name in ("memory_lifecycle", "consolidate_memory"):
                assert tools[name].output_schema and len(tools[name].description or "") > 30
            for ep in EPISODES:
                assert not (await c.call_tool("add_episode", ep)).is_error
            ask = {"query": "Where does Ada live?", "k": 5, "include_ended": True}
            facts = (await c.call_tool("search_facts", ask)).structured_content["facts"]
            ended = next(f for f in facts if not f["current"])
            life = await c.call_tool("memory_lifecycle", {"id": ended["id"]})
            assert not life.is_error, text(life)
            assert life.structured_content["state"] == "superseded"
            assert [e["event"] for e in life.structured_content["events"]] == [
                "stored",
                "superseded",
            ]
            assert "superseded" in text(life)
            missing = await c.call_tool("memory_lifecycle", {"id": "f:nothing"})
            assert missing.is_error and "no node" in text(missing)

            await c.call_tool("add_note", {"text": "UK and United Kingdom share a border."})
            dry = await c.call_tool("consolidate_memory", {"dry_run": True})
            assert not dry.is_error, text(dry)
            merges = dry.structured_content["merges"]
            assert [m["kind"] for m in merges] == ["entity"], merges  # UK into United Kingdom
            again = await c.call_tool("consolidate_memory", {"dry_run": True})
            assert again.structured_content["merges"] == merges  # a dry run records nothing
            done = await c.call_tool("consolidate_memory", {})
            assert done.structured_content["merges"] == merges
            assert (await c.call_tool("consolidate_memory", {})).structured_content["merges"] == []
            for m in merges:
                merged = await c.call_tool("memory_lifecycle", {"id": m["id"]})
                assert merged.structured_content["state"] == "merged"

    anyio.run(main)
