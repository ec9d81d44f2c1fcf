"""GraphQL shows a node's lifecycle (issue 22): state, strength and history on every node type,
and default search leaves archived episodes out as ``Memory.search`` does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from graphmem.embed.local import LocalEmbedder
from graphmem.memory import Memory
from graphmem_api.app import GraphmemApp

from support.api import (
    anyio_backend,  # noqa: F401  (fixture)
    gql,
    make_app,
    new_memory,
)
from support.temporal import temporal_episodes

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[3]
EPISODES = temporal_episodes()
LIFE = """
query($id: ID!) { node(id: $id) { id
  lifecycle { id kind state strength events { nodeId event state actor reason recorded data } }
} }"""
SEARCH = "query($q: String!) { search(question: $q, k: 5) { episodes { episode { id } } } }"


@pytest.fixture(scope="module")
def populated(
    tmp_path_factory: pytest.TempPathFactory, embedder: LocalEmbedder
) -> Iterator[tuple[Memory, GraphmemApp]]:
    mem = new_memory(tmp_path_factory.mktemp("api") / "graph.db", embedder)
    mem.add_episodes(EPISODES)
    app = make_app(mem)
    yield mem, app
    asyncio.run(app.shutdown())
    mem.close()


@pytest.fixture
async def client(populated: tuple[Memory, GraphmemApp]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(populated[1]), base_url="http://t"
    ) as c:
        yield c


async def test_lifecycle_of_a_superseded_then_archived_fact(
    populated: tuple[Memory, GraphmemApp], client: httpx.AsyncClient
) -> None:
    mem = populated[0]
    facts = mem.store.get_facts("default", mem.store.list_ids("default", "fact"))
    ended = next(f for f in facts.values() if f.expired_at is not None)
    _, body = await gql(client, LIFE, {"id": ended.id})
    life = body["data"]["node"]["lifecycle"]
    assert life["state"] == "superseded" and life["kind"] == "fact"
    assert [e["event"] for e in life["events"]] == ["stored", "superseded"]
    assert [e["recorded"] for e in life["events"]] == [False, False]
    assert 0 <= life["strength"] <= 1

    question = "Where does Ada live?"
    _, before = await gql(client, SEARCH, {"q": question})
    report = mem.forget(policy="quota:3")
    try:
        _, body = await gql(client, LIFE, {"id": ended.id})
        life = body["data"]["node"]["lifecycle"]
        assert life["state"] == "archived"
        last = life["events"][-1]
        assert last["actor"] == "forget:quota:3" and last["recorded"]
        assert last["data"]["strength"] == pytest.approx(life["strength"])
        _, after = await gql(client, SEARCH, {"q": question})
        shown = {h["episode"]["id"] for h in after["data"]["search"]["episodes"]}
        assert shown and not shown & set(report.ids)
    finally:
        mem.restore(all_archived=True)
    _, again = await gql(client, SEARCH, {"q": question})
    assert again == before


async def test_every_node_kind_has_a_lifecycle(
    populated: tuple[Memory, GraphmemApp], client: httpx.AsyncClient
) -> None:
    mem = populated[0]
    ep = mem.store.list_ids("default", "episode", limit=1)[0]
    ent = mem.store.list_ids("default", "entity", limit=1)[0]
    _, body = await gql(client, LIFE, {"id": ep})
    life = body["data"]["node"]["lifecycle"]
    assert life["state"] == "active" and life["kind"] == "episode" and life["strength"] is not None
    _, body = await gql(client, LIFE, {"id": ent})
    life = body["data"]["node"]["lifecycle"]
    assert life["state"] == "active" and life["strength"] is None  # entities carry no strength


CONSOLIDATE = """mutation($dry: Boolean!) { consolidate(dryRun: $dry) {
  dryRun mergedEntities foldedFacts merges } }"""


async def test_consolidate_mutation_records_merges_once(
    populated: tuple[Memory, GraphmemApp], client: httpx.AsyncClient
) -> None:
    mem = populated[0]
    mem.add_note("UK and the United Kingdom are one country.", members=["UK", "United Kingdom"])
    _, dry = await gql(client, CONSOLIDATE, {"dry": True})
    got = dry["data"]["consolidate"]
    assert got["dryRun"] and got["mergedEntities"] >= 1
    uk = next(m for m in got["merges"] if m["evidence"] == ["acronym"])
    assert mem.lifecycle(uk["id"]).state == "active"  # type: ignore[union-attr]
    _, done = await gql(client, CONSOLIDATE, {"dry": False})
    assert done["data"]["consolidate"]["merges"] == got["merges"]
    _, body = await gql(client, LIFE, {"id": uk["id"]})
    life = body["data"]["node"]["lifecycle"]
    assert life["state"] == "merged" and life["events"][-1]["data"]["into"] == uk["into"]
    mem.restore([m["id"] for m in got["merges"]])
    assert mem.lifecycle(uk["id"]).state == "active"  # type: ignore[union-attr]
