"""Set-up shared by the API and client tests (imported by them; not a test module).

The embedding model (the session's ``embedder`` fixture, from conftest.py) and the spaCy pipeline
are loaded once and shared by every Memory the tests open; each test gets its own real SQLite store
in a temporary directory.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from graphmem.memory import Memory
from graphmem.store.base import Store
from graphmem_api import Settings, create_app
from graphmem_api.app import GraphmemApp
from graphmem_api.server import make_server

ROOT = Path(__file__).resolve().parents[2]
DEMO_CORPUS = ROOT / "examples" / "data" / "demo_corpus.jsonl"
DEMO_QUESTIONS = ROOT / "examples" / "data" / "demo_questions.jsonl"


@functools.cache
def shared_extractor() -> Any:
    from graphmem.extract.nlp import SpacyExtractor

    return SpacyExtractor()


def new_memory(path: Path, embedder: Any, *, wrap: Callable[[Store], Any] | None = None) -> Memory:
    """A real Memory on a new SQLite file, with the session's model and the shared extractor."""
    from graphmem.store import open_store

    store: Any = open_store(str(path))
    if wrap is not None:
        store = wrap(store)
    return Memory(store, embedder=embedder, extractor=shared_extractor())


def demo_docs() -> list[dict[str, Any]]:
    docs = []
    for line in DEMO_CORPUS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        docs.append({"text": row["text"], "title": row["title"], "source": f"demo/{row['id']}"})
    return docs


def demo_questions() -> list[str]:
    return [
        json.loads(x)["question"] for x in DEMO_QUESTIONS.read_text(encoding="utf-8").splitlines()
    ]


_FIRST = ["Maria", "John", "Aiko", "Pedro", "Fatima", "Lars", "Chen", "Olga", "Samuel", "Nadia"]
_LAST = [
    "Keller",
    "Okafor",
    "Tanaka",
    "Silva",
    "Haddad",
    "Berg",
    "Wong",
    "Petrova",
    "Adams",
    "Voss",
]
_CITIES = [
    "Lisbon",
    "Nairobi",
    "Osaka",
    "Quito",
    "Tunis",
    "Bergen",
    "Taipei",
    "Kazan",
    "Denver",
    "Graz",
]
_ORGS = ["Orbis Labs", "Helix Bank", "Nordwind Energy", "Corvane Optics", "Tessera Books"]


def synthetic_docs(n: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` distinct short biographies (people, cities, employers) that spaCy can extract."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        person = f"{_FIRST[i % 10]} {_LAST[(i // 10) % 10]}"
        city, org = rng.choice(_CITIES), rng.choice(_ORGS)
        text = (
            f"{person} was born in {city} in {1950 + i % 50}. {person} works for {org}, "
            f"which has an office in {rng.choice(_CITIES)}. Record {i}."
        )
        docs.append({"text": text, "source": f"bio/{i}", "title": person})
    return docs


class CountingStore:
    """The real store, with a count of the calls made to it (to prove batching)."""

    def __init__(self, inner: Store) -> None:
        self._inner = inner
        self.calls: dict[str, int] = {}
        self.counting = False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            if self.counting:
                self.calls[name] = self.calls.get(name, 0) + 1
            return attr(*args, **kwargs)

        return counted

    def total(self) -> int:
        return sum(self.calls.values())


def snapshot(mem: Memory, namespace: str = "default") -> dict[str, Any]:
    """What a namespace holds, independent of when it was written: counts, nodes, edges."""
    stats = mem.stats(namespace).model_dump()
    view = mem.store.graph(namespace)
    ids = [view.node_id(i) for i in range(view.num_nodes)]
    matrix = view.matrix().tocoo()
    edges = sorted(
        (min(ids[r], ids[c]), max(ids[r], ids[c]), round(float(w), 6))
        for r, c, w in zip(matrix.row, matrix.col, matrix.data, strict=True)
        if r < c
    )
    return {"stats": stats, "nodes": sorted(ids), "edges": edges}


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    key: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """POST one GraphQL request; (HTTP status, JSON body)."""
    headers = {"authorization": f"Bearer {key}"} if key else {}
    r = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    return r.status_code, r.json()


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


def make_app(mem: Memory, **settings: Any) -> GraphmemApp:
    return create_app(mem, settings=Settings(**settings))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class HashEmbedder:
    """Vectors from a text's hash: no model to load, for tests that do not rank by meaning."""

    name, dim = "hash-16", 16

    def embed(self, texts: Any, *, kind: str = "passage") -> Any:
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:16], np.uint8) for t in texts]
        out = np.asarray(rows, dtype=np.float32).reshape(len(texts), 16) + 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """The app under uvicorn on 127.0.0.1 (websockets need a real socket)."""

    def __init__(self, app: GraphmemApp) -> None:
        self.port = free_port()
        self.server = make_server(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(60)
