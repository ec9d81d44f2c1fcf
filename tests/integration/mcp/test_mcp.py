"""``graphmem mcp`` for real: a subprocess driven by the MCP SDK's own client, over stdio and
streamable HTTP, on a SQLite file (a FalkorDB server for the store that goes away), with the
MiniLM embedder and the spaCy extractor.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from graphmem.ingest.sources import read_documents
from graphmem.keys import create_key

from support.mcp import DATA, HttpServer, http_client, mcp_args, server_env, stdio_client, text

TOOLS = {
    "add_memory",
    "add_episode",
    "search_memory",
    "search_facts",
    "get_entity",
    "delete_memory",
    "add_note",
    "stats",
}
QUESTIONS = {q["id"]: q for q in map(json.loads, (DATA / "demo_questions.jsonl").open())}


def corpus_items() -> list[dict[str, Any]]:
    """The demo corpus as ``graphmem ingest`` reads it (title line included)."""
    return [
        {"text": d.text, "source": d.source, "title": d.title}
        for d in read_documents(DATA / "demo_corpus.jsonl")
    ]


def sources(result: Any) -> list[str]:
    return [p["source"] for p in result.structured_content["passages"]]


# ---------------------------------------------------------------------------------------- stdio


def test_stdio_end_to_end(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'm.db'}"

    async def main() -> None:
        async with stdio_client(store, "agent-1") as c:
            tools = {t.name: t for t in (await c.list_tools()).tools}
            assert set(tools) >= TOOLS
            for tool in tools.values():
                assert tool.description and len(tool.description) > 30, tool.name
                assert "namespace" not in tool.input_schema.get("properties", {}), tool.name
                assert tool.output_schema, tool.name

            # the demo corpus in one call, with progress notifications
            seen: list[tuple[float, float | None]] = []

            async def progress(done: float, total: float | None, message: str | None) -> None:
                seen.append((done, total))

            items = corpus_items()
            added = await c.call_tool("add_memories", {"items": items}, progress_callback=progress)
            assert not added.is_error, text(added)
            assert added.structured_content["passages_added"] == len(items)
            assert len(seen) >= 2 and seen[-1] == (len(items), len(items))
            assert [d for d, _ in seen] == sorted(d for d, _ in seen)
            again = await c.call_tool("add_memories", {"items": items})
            assert again.structured_content["passages_added"] == 0
            assert again.structured_content["passages_skipped"] == len(items)

            # two-hop questions: both gold passages in the top 3, the answer in the text
            for qid in ("q2", "q3"):
                q = QUESTIONS[qid]
                found = await c.call_tool("search_memory", {"query": q["question"], "k": 3})
                assert not found.is_error, text(found)
                assert set(q["gold_passage_ids"]) <= set(sources(found)), (qid, sources(found))
                assert q["answers"][0] in text(found)
                assert any(p["path"] for p in found.structured_content["passages"])

            # a changed fact: the current one first now, the old one as_of before the change
            for ep in (
                {
                    "text": "I live in Lisbon.",
                    "speaker": "Ada",
                    "session": "s1",
                    "time": "2020-01-10T10:00:00Z",
                },
                {
                    "text": "Big news: I moved to Porto last week.",
                    "speaker": "Ada",
                    "session": "s2",
                    "time": "2021-06-01T10:00:00Z",
                },
            ):
                r = await c.call_tool("add_episode", ep)
                assert not r.is_error and r.structured_content["episodes_added"] == 1, text(r)
            ask = {"query": "Where does Ada live?", "k": 5}
            now = (await c.call_tool("search_facts", ask)).structured_content["facts"]
            assert now and now[0]["object"] == "Porto" and now[0]["current"]
            assert all(f["object"] != "Lisbon" for f in now)  # ended: history only on request
            history = await c.call_tool("search_facts", {**ask, "include_ended": True})
            objects = [f["object"] for f in history.structured_content["facts"]]
            assert objects.index("Porto") < objects.index("Lisbon")
            then = await c.call_tool("search_facts", {**ask, "as_of": "2020-06-01"})
            assert [f["object"] for f in then.structured_content["facts"]][:1] == ["Lisbon"]
            past = await c.call_tool("search_memory", {**ask, "as_of": "2020-06-01"})
            episodes = past.structured_content["episodes"]
            assert episodes and all("Porto" not in e["text"] for e in episodes)

            # entities, notes, resources, delete
            ent = await c.call_tool("get_entity", {"name_or_id": "Ada"})
            assert not ent.is_error and ent.structured_content["facts"], text(ent)
            assert ent.structured_content["facts"][0]["object"] == "Porto"  # current first
            eid = ent.structured_content["id"]
            res = await c.read_resource(f"graphmem://entity/{eid}")
            assert json.loads(res.contents[0].text)["name"] == "Ada"
            note = await c.call_tool("add_note", {"text": "Ada and Helena Marsh met in Porto."})
            assert not note.is_error and len(note.structured_content["members"]) >= 2
            one = await c.call_tool(
                "add_memory",
                {"text": "Bled is a town in Slovenia.", "source": "bled", "time": "2019-05-01"},
            )
            assert one.structured_content["passages_added"] == 1
            stats = json.loads((await c.read_resource("graphmem://stats")).contents[0].text)
            assert stats["namespace"] == "agent-1"
            assert stats["passages"] == len(items) + 1 and stats["episodes"] == 2
            gone = await c.call_tool("delete_memory", {"source": "bled"})
            assert gone.structured_content["passages"] == 1
            after = (await c.call_tool("stats", {})).structured_content
            assert after["passages"] == len(items)

            # bad arguments: tool errors with a clear message, and the server goes on
            bad = {
                ("add_memory", '{"text": "   "}'): "text is empty",
                ("add_episode", '{"text": ""}'): "text is empty",
                ("search_memory", '{"query": "x", "k": 0}'): "k must be between 1 and 100",
                ("search_memory", '{"query": "x", "k": 100000}'): "k must be between",
                ("search_facts", '{"query": "x", "as_of": "someday"}'): "cannot read 'someday'",
                ("add_episode", '{"text": "hi", "time": "13/45/2020"}'): "ISO 8601",
                ("get_entity", '{"name_or_id": "Nobody At All"}'): "no entity 'Nobody At All'",
                ("delete_memory", '{"source": "never-added"}'): "nothing in memory",
                ("search_memory", '{"k": 3}'): "query",
                ("search_memory", '{"query": "x", "k": "many"}'): "valid integer",
                ("add_memories", '{"items": []}'): "items must hold",
            }
            for (name, args), message in bad.items():
                r = await c.call_tool(name, json.loads(args))
                assert r.is_error and message in text(r), (name, args, text(r))
            with pytest.raises(Exception, match=r"(?i)no entity|unknown|not found"):
                await c.read_resource("graphmem://entity/e:0000")
            assert not (await c.call_tool("stats", {})).is_error

        # another namespace on the same store sees none of it
        async with stdio_client(store, "agent-2") as c:
            other = (await c.call_tool("stats", {})).structured_content
            assert other["namespace"] == "agent-2" and other["passages"] == 0
            miss = await c.call_tool("search_memory", {"query": "Where does Ada live?"})
            assert not miss.is_error and miss.structured_content["passages"] == []

    anyio.run(main)


@pytest.mark.falkordb
@pytest.mark.slow
def test_store_that_goes_away_gives_errors_then_serves_again() -> None:
    from support.falkordb_server import FalkorDBServer

    with FalkorDBServer() as db:
        store = f"{db.url}/mcp_gone"

        async def main() -> None:
            async with stdio_client(store, "gone") as c:
                r = await c.call_tool("add_memory", {"text": "Bled is a town in Slovenia."})
                assert not r.is_error, text(r)
                db.stop()
                for name, args in (("search_memory", {"query": "Where is Bled?"}), ("stats", {})):
                    down = await c.call_tool(name, args)
                    assert down.is_error and "store" in text(down), text(down)
                db.start()
                up = await c.call_tool("search_memory", {"query": "Where is Bled?", "k": 3})
                assert not up.is_error, text(up)
                assert "Slovenia" in text(up)
                assert (await c.call_tool("stats", {})).structured_content["passages"] == 1

        anyio.run(main)


# ----------------------------------------------------------------------------------------- HTTP


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HttpServer, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("mcp-http")
    keys = folder / "keys.json"
    tokens = {
        "a": create_key(keys, ["team-a"], key_id="a"),
        "b": create_key(keys, ["team-b", "team-a"], key_id="b"),  # acts on its first: team-b
        "ro": create_key(keys, ["team-a"], key_id="ro", read_only=True),
    }
    store = f"sqlite:///{folder / 'm.db'}"
    with HttpServer(store, "--keys", str(keys)) as server:
        yield server, tokens


def test_http_keys_see_only_their_namespace(keyed: tuple[HttpServer, dict[str, str]]) -> None:
    server, keys = keyed

    async def main() -> None:
        async with (
            http_client(server.url, keys["a"]) as a,
            http_client(server.url, keys["b"], header="x-api-key") as b,
        ):
            ra = await a.call_tool(
                "add_memory", {"text": "Ada Lovelace was born in London.", "source": "ada"}
            )
            rb = await b.call_tool(
                "add_memory", {"text": "Bled is a town in Slovenia.", "source": "bled"}
            )
            assert not ra.is_error and not rb.is_error, (text(ra), text(rb))
            sa = (await a.call_tool("stats", {})).structured_content
            sb = (await b.call_tool("stats", {})).structured_content
            assert (sa["namespace"], sa["passages"]) == ("team-a", 1)
            assert (sb["namespace"], sb["passages"]) == ("team-b", 1)
            q = {"query": "Where was Ada Lovelace born?", "k": 5}
            assert sources(await a.call_tool("search_memory", q))[:1] == ["ada"]
            assert "ada" not in sources(await b.call_tool("search_memory", q))
            assert (await b.call_tool("get_entity", {"name_or_id": "Ada Lovelace"})).is_error
            assert (await b.call_tool("delete_memory", {"source": "ada"})).is_error
            assert (await a.call_tool("stats", {})).structured_content["passages"] == 1
            res = json.loads((await b.read_resource("graphmem://stats")).contents[0].text)
            assert res["namespace"] == "team-b"

        async with http_client(server.url, keys["ro"]) as ro:
            seen = await ro.call_tool("search_memory", {"query": "Ada Lovelace", "k": 3})
            assert sources(seen)[:1] == ["ada"]
            refused = await ro.call_tool("add_memory", {"text": "Ada wrote notes."})
            assert refused.is_error and "read-only" in text(refused)

    anyio.run(main)


def test_http_without_a_valid_key_is_refused(keyed: tuple[HttpServer, dict[str, str]]) -> None:
    server, keys = keyed
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "0"},
        },
    }
    accept = {"Accept": "application/json, text/event-stream"}
    wrong = keys["a"][:-4] + "xxxx"
    for headers in (
        {},
        {"Authorization": f"Bearer {wrong}"},
        {"X-API-Key": "gmk.a.nope"},
        {"Authorization": "Basic YTpi"},
    ):
        r = httpx.post(server.url, json=init, headers={**accept, **headers}, timeout=30)
        assert r.status_code == 401, (headers, r.status_code, r.text)
    ok = httpx.post(
        server.url,
        json=init,
        headers={**accept, "Authorization": f"Bearer {keys['a']}"},
        timeout=30,
    )
    assert ok.status_code == 200, ok.text

    async def main() -> None:
        with pytest.raises(Exception):  # noqa: B017 - the SDK raises its transport's error
            async with http_client(server.url, wrong) as c:
                await c.call_tool("stats", {})

    anyio.run(main)


def test_http_bounded_load(keyed: tuple[HttpServer, dict[str, str]]) -> None:
    """8 concurrent clients x 20 searches: every answer arrives, none is an error."""
    server, keys = keyed
    questions = [q["question"] for q in QUESTIONS.values()]
    answers: list[bool] = []

    async def one(n: int) -> None:
        async with http_client(server.url, keys["a"]) as c:
            for i in range(20):
                r = await c.call_tool(
                    "search_memory", {"query": questions[(n + i) % len(questions)], "k": 5}
                )
                answers.append(not r.is_error and r.structured_content is not None)

    async def main() -> None:
        with anyio.fail_after(240):
            async with anyio.create_task_group() as tg:
                for n in range(8):
                    tg.start_soon(one, n)

    t0 = time.monotonic()
    anyio.run(main)
    assert len(answers) == 160 and all(answers), answers.count(False)
    assert time.monotonic() - t0 < 240


def test_http_refuses_an_open_non_loopback_host(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'm.db'}"
    run = subprocess.run(
        [sys.executable, *mcp_args("--store", store, "--transport", "http", "--host", "0.0.0.0")],
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and "refusing to serve MCP on 0.0.0.0" in run.stderr, run.stderr
    missing = subprocess.run(
        [
            sys.executable,
            *mcp_args(
                "--store", store, "--transport", "http", "--keys", str(tmp_path / "none.json")
            ),
        ],
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and "key file" in missing.stderr, missing.stderr
    assert not (tmp_path / "m.db").exists()  # refused before touching the store


def test_import_graphmem_loads_nothing_of_the_mcp_server() -> None:
    code = (
        "import sys, graphmem, graphmem.cli; "
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', "
        "'graphmem.mcp.server', 'graphmem.mcp.tools', 'graphmem.mcp.backend'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=server_env(), capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0 and out.stdout.strip() == "[]", (out.stdout, out.stderr)
