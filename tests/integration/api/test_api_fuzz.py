"""Fuzz the schema (hypothesis-graphql, bounded): no request, valid or not, makes the server fail.

Every answer must be JSON with a status below 500, and every error must carry a documented code
other than INTERNAL; after the run the server still answers a plain search.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, mutations, nodes, queries

from graphmem.embed.local import LocalEmbedder
from graphmem.memory import Memory
from graphmem_api.app import GraphmemApp
from graphmem_api.errors import CODES
from graphmem_api.schema import schema

from support.api import demo_docs, make_app, new_memory

SDL = schema.as_str()
SCALARS = {
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(lambda d: nodes.String(d.isoformat())),
    "JSON": st.just(nodes.Object([])),
}
#: bounded: a fixed number of examples each, none allowed more than 10 s (a generous bound on a
#: busy 2-core machine; an example that hangs fails instead of stalling the suite)
FUZZ = dict(
    deadline=timedelta(seconds=10),
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, embedder: LocalEmbedder
) -> Iterator[tuple[Memory, GraphmemApp]]:
    mem = new_memory(tmp_path_factory.mktemp("fuzz") / "graph.db", embedder)
    mem.add_many(demo_docs()[:6])
    served = make_app(mem)
    yield mem, served
    asyncio.run(served.shutdown())
    mem.close()


def post(app: GraphmemApp, query: str) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
            return await c.post("/graphql", json={"query": query})

    return asyncio.run(go())


def check(response: httpx.Response, *, valid: bool) -> None:
    assert response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    for error in body.get("errors") or []:
        code = error.get("extensions", {}).get("code")
        assert code in CODES and code != "INTERNAL", (code, error)
        if not valid:
            assert code in ("BAD_REQUEST", "LIMIT_EXCEEDED"), error
    if valid and "errors" not in body:
        assert isinstance(body.get("data"), dict)


@settings(max_examples=120, **FUZZ)
@given(data=st.data())
def test_fuzz_queries(app: tuple[Memory, GraphmemApp], data: st.DataObject) -> None:
    query = data.draw(queries(SDL, custom_scalars=SCALARS))
    check(post(app[1], query), valid=True)


@settings(max_examples=40, **FUZZ)
@given(data=st.data())
def test_fuzz_mutations(app: tuple[Memory, GraphmemApp], data: st.DataObject) -> None:
    query = data.draw(mutations(SDL, custom_scalars=SCALARS))
    check(post(app[1], query), valid=True)


@settings(max_examples=80, **FUZZ)
@given(data=st.data())
def test_fuzz_invalid_operations(app: tuple[Memory, GraphmemApp], data: st.DataObject) -> None:
    query = data.draw(from_schema(SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE))
    check(post(app[1], query), valid=False)


def test_still_serving_after_fuzzing(app: tuple[Memory, GraphmemApp]) -> None:
    jobs = app[1].runtime.jobs  # type: ignore[union-attr]
    assert jobs.shutdown(timeout=300)  # let the fuzzed ingests finish
    assert all(j.status.finished and j.error_code != "INTERNAL" for j in jobs.jobs())
    response = post(app[1], '{ search(question: "Who wrote The Glass Orchard?", k: 2) { mode } }')
    assert response.status_code == 200 and "errors" not in response.json(), response.text
