"""The GraphQL API in process (httpx over ASGI) on a real Memory and a real SQLite store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphmem.embed.local import LocalEmbedder
from graphmem.keys import KeyRing, create_key
from graphmem.memory import Memory
from graphmem_api.app import GraphmemApp

from support.api import (
    CountingStore,
    anyio_backend,  # noqa: F401  (fixture)
    codes,
    demo_docs,
    demo_questions,
    gql,
    make_app,
    new_memory,
    snapshot,
    synthetic_docs,
)

pytestmark = pytest.mark.anyio

SEARCH = """
query($q: String!, $k: Int!, $include: [Include!]) {
  search(question: $q, k: $k, include: $include) {
    mode
    passages { score denseScore path passage { id title } facts { score fact { id subject object } } }
    facts { score fact { id } }
    entities { score entity { id name } }
    subgraph { nodes { id kind label score } edges { source target type factId } }
  }
}"""
NEIGHBORS = """
query($id: ID!, $depth: Int!, $first: Int!, $after: String) {
  neighbors(id: $id, depth: $depth, first: $first, after: $after) {
    totalCount truncated pageInfo { hasNextPage endCursor }
    edges { cursor id kind label edgeType weight direction depth via factId }
  }
}"""
JOB = "query($id: ID!) { job(id: $id) { status done total progress error { code message } report { passagesAdded passagesSkipped } } }"
INGEST = "mutation($d: [DocumentInput!]!, $b: Int!, $ns: String) { ingest(documents: $d, batchSize: $b, namespace: $ns) { id status total done } }"


@pytest.fixture(scope="module")
def populated(
    tmp_path_factory: pytest.TempPathFactory, embedder: LocalEmbedder
) -> Iterator[tuple[Memory, GraphmemApp]]:
    mem = new_memory(tmp_path_factory.mktemp("api") / "graph.db", embedder)
    mem.add_many(demo_docs(), batch_size=16)
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


def _best_entity(mem: Memory) -> str:
    """The entity with the most neighbours among those the demo questions reach."""
    ids = {e.entity.id for q in demo_questions() for e in mem.search(q, k=5).entities}
    return max(sorted(ids), key=lambda i: len(mem.neighbors(i, limit=1000)))


async def test_search_answers_as_memory_does_with_the_subgraph(
    populated: tuple[Memory, GraphmemApp], client: httpx.AsyncClient
) -> None:
    mem = populated[0]
    for question in demo_questions()[:4]:
        status, body = await gql(client, SEARCH, {"q": question, "k": 5})
        assert status == 200 and "errors" not in body, body
        got = body["data"]["search"]
        want = mem.search(question, k=5)
        assert got["mode"] == want.mode
        assert [p["passage"]["id"] for p in got["passages"]] == [
            h.passage.id for h in want.passages
        ]
        assert [p["score"] for p in got["passages"]] == pytest.approx(
            [h.score for h in want.passages]
        )
        assert [f["fact"]["id"] for f in got["facts"]] == [h.fact.id for h in want.facts]
        nodes = {n["id"]: n for n in got["subgraph"]["nodes"]}
        for hit in got["passages"]:
            assert nodes[hit["passage"]["id"]]["score"] == pytest.approx(hit["score"])
            for fh in hit["facts"]:  # each linking fact is an edge between its two entities
                assert {fh["fact"]["subject"], fh["fact"]["object"]} <= set(nodes)
        for edge in got["subgraph"]["edges"]:
            assert edge["source"] in nodes and edge["target"] in nodes

    status, body = await gql(
        client, SEARCH, {"q": demo_questions()[0], "k": 3, "include": ["PASSAGES"]}
    )
    got = body["data"]["search"]
    assert len(got["passages"]) == 3 and got["facts"] == [] and got["entities"] == []


async def test_lookups_by_id_and_name(
    populated: tuple[Memory, GraphmemApp], client: httpx.AsyncClient
) -> None:
    mem = populated[0]
    hit = mem.search(demo_questions()[0], k=1)
    pid, eid = hit.passages[0].passage.id, hit.entities[0].entity.id
    name = hit.entities[0].entity.name

    _, body = await gql(
        client, "query($id: ID!) { passage(id: $id) { id text title source status } }", {"id": pid}
    )
    p = mem.get_passage(pid)
    assert p is not None
    assert body["data"]["passage"] == {
        "id": pid,
        "text": p.text,
        "title": p.title,
        "source": p.source,
        "status": "ok",
    }

    for args in ({"id": eid}, {"name": name.upper()}):
        _, body = await gql(
            client,
            "query($id: ID, $name: String) { entity(id: $id, name: $name) { id name normalized } }",
            args,
        )
        assert body["data"]["entity"]["id"] == eid, body

    _, body = await gql(
        client,
        "query($id: ID!) { node(id: $id) { __typename id ... on Entity { name } } }",
        {"id": eid},
    )
    assert body["data"]["node"] == {"__typename": "Entity", "id": eid, "name": name}

    for query, var in (
        ("query($id: ID!) { passage(id: $id) { id } }", "p:0000"),
        ("query($id: ID!) { entity(id: $id) { id } }", "e:0000"),
        ("query($id: ID!) { episode(id: $id) { id } }", "ep:0000"),
        ("query($id: ID!) { node(id: $id) { id } }", "zz:0000"),
        ("query($id: ID!) { passage(id: $id) { id } }", eid),  # an entity's id is no passage's
    ):
        _, body = await gql(client, query, {"id": var})
        assert codes(body) == ["NOT_FOUND"], body


async def test_neighbors_pages_cover_the_walk_exactly_once(
    populated: tuple[Memory, GraphmemApp], client: httpx.AsyncClient
) -> None:
    mem = populated[0]
    root = _best_entity(mem)

    _, body = await gql(client, NEIGHBORS, {"id": root, "depth": 1, "first": 100})
    whole = body["data"]["neighbors"]
    one_hop = [(e["id"], e["edgeType"], e["direction"], e["weight"]) for e in whole["edges"]]
    want = [(n.id, n.edge_type, n.direction, n.weight) for n in mem.neighbors(root, limit=1000)]
    assert sorted(one_hop) == sorted(want)  # the same adjacency as Memory.neighbors
    assert whole["totalCount"] == len(want) and len(want) >= 3

    for depth in (1, 2):
        _, body = await gql(client, NEIGHBORS, {"id": root, "depth": depth, "first": 100})
        full = body["data"]["neighbors"]
        pages, after = [], None
        while True:
            _, body = await gql(
                client, NEIGHBORS, {"id": root, "depth": depth, "first": 2, "after": after}
            )
            conn = body["data"]["neighbors"]
            assert len(conn["edges"]) <= 2
            pages.extend(conn["edges"])
            if not conn["pageInfo"]["hasNextPage"]:
                break
            after = conn["pageInfo"]["endCursor"]
            assert after == conn["edges"][-1]["cursor"]
        assert [e["cursor"] for e in pages] == [e["cursor"] for e in full["edges"]]
        assert len(pages) == full["totalCount"]

    _, body = await gql(client, NEIGHBORS, {"id": root, "depth": 2, "first": 100})
    edges = body["data"]["neighbors"]["edges"]
    first_hop = {e["id"] for e in edges if e["depth"] == 1}
    second = [e for e in edges if e["depth"] == 2]
    assert second, "the demo graph has nodes two hops from its best-linked entity"
    assert all(e["via"] in first_hop and e["id"] not in first_hop | {root} for e in second)
    assert [e["depth"] for e in edges] == sorted(e["depth"] for e in edges)


async def test_neighbors_make_a_fixed_number_of_store_calls(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    counting: list[CountingStore] = []

    def wrap(store: Any) -> CountingStore:
        counting.append(CountingStore(store))
        return counting[0]

    mem = new_memory(tmp_path / "graph.db", embedder, wrap=wrap)
    mem.add_many(demo_docs(), batch_size=16)
    store = counting[0]
    root = _best_entity(mem)
    app = make_app(mem)
    query = """
    query($id: ID!, $first: Int!) {
      neighbors(id: $id, depth: 2, first: $first) {
        edges { id node { id ... on Entity { name neighbors(first: 5) { totalCount edges { node { id } } } }
                          ... on Passage { title } ... on Fact { subjectEntity { name } } } }
      }
    }"""
    calls, resolved = {}, {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        for first in (2, 60):
            store.calls.clear()
            store.counting = True
            _, body = await gql(client, query, {"id": root, "first": first})
            store.counting = False
            assert "errors" not in body, body
            edges = body["data"]["neighbors"]["edges"]
            resolved[first] = len(edges) + sum(
                len((e["node"].get("neighbors") or {}).get("edges", [])) for e in edges
            )
            calls[first] = store.total()
    await app.shutdown()
    mem.close()
    # 30 times more nodes resolved, yet the same handful of calls: one batch per walk level
    # (edges_of + facts_between) and one get_<kind>s per kind of node, never one per node.
    assert resolved[60] >= 10 * resolved[2] or resolved[60] >= 40, resolved
    assert calls[60] <= calls[2] + 6, (calls, store.calls)
    assert calls[60] <= 24, store.calls
    assert calls[60] < resolved[60] / 2


async def test_ingest_runs_as_a_job_with_progress_then_delete(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    mem = new_memory(tmp_path / "graph.db", embedder)
    app = make_app(mem)
    docs = demo_docs()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        _, body = await gql(client, INGEST, {"d": docs, "b": 5})
        job = body["data"]["ingest"]
        assert job["status"] in ("QUEUED", "RUNNING") and job["total"] == len(docs)
        seen = []
        while True:
            _, body = await gql(client, JOB, {"id": job["id"]})
            state = body["data"]["job"]
            seen.append(state["done"])
            if state["status"] not in ("QUEUED", "RUNNING"):
                break
            await asyncio.sleep(0.02)
        assert state["status"] == "SUCCEEDED", state
        assert state["done"] == len(docs) and state["progress"] == 1.0
        assert state["report"]["passagesAdded"] == len(docs)
        assert seen == sorted(seen)
        assert mem.stats().passages == len(docs)

        # idempotent: the same documents again add nothing
        _, body = await gql(client, INGEST, {"d": docs, "b": 5})
        again = app.runtime.jobs.wait(body["data"]["ingest"]["id"], timeout=60)  # type: ignore[union-attr]
        assert again.report is not None and again.report.passages_skipped == len(docs)

        pid = mem.search(demo_questions()[0], k=1).passages[0].passage.id
        source = mem.get_passage(pid).source  # type: ignore[union-attr]
        _, body = await gql(
            client,
            "mutation($s: String!) { deleteSource(source: $s) { passages entities facts } }",
            {"s": source},
        )
        assert body["data"]["deleteSource"]["passages"] == 1
        _, body = await gql(client, "query($id: ID!) { passage(id: $id) { id } }", {"id": pid})
        assert codes(body) == ["NOT_FOUND"]
        _, body = await gql(client, "{ stats { passages } }")
        assert body["data"]["stats"]["passages"] == len(docs) - 1

        _, body = await gql(
            client, 'mutation { deleteNamespace(namespace: "default") { passages } }'
        )
        assert body["data"]["deleteNamespace"]["passages"] == len(docs) - 1
        _, body = await gql(client, "{ stats { passages entities facts } }")
        assert body["data"]["stats"] == {"passages": 0, "entities": 0, "facts": 0}
    await app.shutdown()
    mem.close()


async def test_no_key_reads_or_writes_another_namespace(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    keys = tmp_path / "keys.json"
    key_a = create_key(keys, ["team-a"], key_id="a")
    key_b = create_key(keys, ["team-b"], key_id="b")
    key_ro = create_key(keys, ["team-a"], key_id="a-reader", read_only=True)
    key_admin = create_key(keys, ["*"], key_id="admin")
    mem = new_memory(tmp_path / "graph.db", embedder)
    app = make_app(mem, keys=KeyRing.load(keys))
    docs = demo_docs()[:5]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        _, body = await gql(
            c, "{ viewer { keyId namespaces readOnly defaultNamespace } }", key=key_a
        )
        assert body["data"]["viewer"] == {
            "keyId": "a",
            "namespaces": ["team-a"],
            "readOnly": False,
            "defaultNamespace": "team-a",
        }
        _, body = await gql(c, INGEST, {"d": docs, "b": 5}, key=key_a)  # no namespace: the key's
        job_id = body["data"]["ingest"]["id"]
        assert app.runtime.jobs.wait(job_id, timeout=60).status.value == "SUCCEEDED"  # type: ignore[union-attr]
        assert mem.stats("team-a").passages == 5
        hit = mem.search(demo_questions()[0], k=1, namespace="team-a")
        pid, eid = hit.passages[0].passage.id, hit.entities[0].entity.id

        q = demo_questions()[0]
        forbidden = [
            ('query($q: String!) { search(question: $q, namespace: "team-a") { mode } }', {"q": q}),
            ('{ stats(namespace: "team-a") { passages } }', {}),
            ('query($id: ID!) { passage(id: $id, namespace: "team-a") { id } }', {"id": pid}),
            (
                'query($id: ID!) { neighbors(id: $id, namespace: "team-a") { totalCount } }',
                {"id": eid},
            ),
            (INGEST, {"d": docs[:1], "b": 1, "ns": "team-a"}),
            ('mutation { deleteSource(source: "demo/d01", namespace: "team-a") { passages } }', {}),
            ('mutation { deleteNamespace(namespace: "team-a") { passages } }', {}),
        ]
        for query, variables in forbidden:
            _, body = await gql(c, query, variables, key=key_b)
            assert codes(body) == ["FORBIDDEN"], (query, body)
        hidden = [
            ("query($id: ID!) { passage(id: $id) { id } }", {"id": pid}),  # team-b has no such id
            ("query($id: ID!) { neighbors(id: $id) { totalCount } }", {"id": eid}),
            ("query($id: ID!) { job(id: $id) { status } }", {"id": job_id}),
        ]
        for query, variables in hidden:
            _, body = await gql(c, query, variables, key=key_b)
            assert codes(body) == ["NOT_FOUND"], (query, body)
        _, body = await gql(
            c,
            "query($q: String!) { search(question: $q) { passages { score } } }",
            {"q": q},
            key=key_b,
        )
        assert body["data"]["search"]["passages"] == []

        _, body = await gql(
            c,
            "query($q: String!) { search(question: $q) { passages { score } } }",
            {"q": q},
            key=key_ro,
        )
        assert body["data"]["search"]["passages"]
        _, body = await gql(c, INGEST, {"d": docs[:1], "b": 1}, key=key_ro)
        assert codes(body) == ["FORBIDDEN"]
        _, body = await gql(c, '{ stats(namespace: "team-a") { passages } }', key=key_admin)
        assert body["data"]["stats"]["passages"] == 5

        for bad in (None, "gmk.a.wrong-secret", key_a[:-1], "not-a-key"):
            status, body = await gql(c, "{ viewer { keyId } }", key=bad)
            assert status == 401 and codes(body) == ["UNAUTHENTICATED"]
    assert mem.stats("team-a").passages == 5 and mem.stats("team-b").passages == 0
    await app.shutdown()
    mem.close()


async def test_searches_keep_answering_while_an_ingest_runs(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    docs = synthetic_docs(100)
    mem = new_memory(tmp_path / "api.db", embedder)
    mem.add_many(docs[:10], batch_size=10)  # something to search from the start
    app = make_app(mem)
    answered, errors, progress = 0, [], []
    query = "query($q: String!) { search(question: $q, k: 3) { passages { score } } }"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://t", timeout=60
    ) as c:
        _, body = await gql(c, INGEST, {"d": docs, "b": 10})
        job_id = body["data"]["ingest"]["id"]
        done = asyncio.Event()

        async def searcher(i: int) -> None:
            nonlocal answered
            while not done.is_set():
                _, body = await gql(
                    c, query, {"q": f"Where was {docs[i * 7 % 100]['title']} born?"}
                )
                if "errors" in body or not body["data"]["search"]["passages"]:
                    errors.append(body)
                answered += 1

        async def watcher() -> None:
            while True:
                _, body = await gql(c, JOB, {"id": job_id})
                job = body["data"]["job"]
                progress.append(job["done"])
                if job["status"] not in ("QUEUED", "RUNNING"):
                    assert job["status"] == "SUCCEEDED", job
                    done.set()
                    return
                await asyncio.sleep(0.05)

        started = time.monotonic()
        await asyncio.wait_for(asyncio.gather(watcher(), *(searcher(i) for i in range(3))), 300)
    await app.shutdown()
    assert errors == []
    assert answered >= 3, f"{answered} searches in {time.monotonic() - started:.1f} s"
    assert progress == sorted(progress) and progress[-1] == 100
    assert len(set(progress)) >= 3, progress  # the job reported progress on the way

    alone = new_memory(tmp_path / "in-process.db", embedder)
    alone.add_many(docs[:10], batch_size=10)
    alone.add_many(docs, batch_size=10)
    assert snapshot(mem) == snapshot(alone)
    mem.close()
    alone.close()
