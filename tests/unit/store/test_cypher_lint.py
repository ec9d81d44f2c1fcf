"""Every Cypher statement the Neo4j dialect runs passes Neo4j's own linter with zero diagnostics.

Two sets are linted with ``tools/cypherlint`` (``@neo4j-cypher/language-support``, pinned):

- every file in ``cypher/neo4j/`` as written (templates keep their ``__NAME__`` placeholders,
  which are valid identifiers), with the parameters its header declares;
- every statement the Neo4j dialect builds at run time, captured while a :class:`CypherStore`
  runs a whole workload (writes of every node kind, reads, vector search, the graph, GDS
  PageRank, deletes) against a recording stand-in for the Neo4j driver (no Neo4j server can be
  installed here), plus every template rendered with every name the store can give it.

The FalkorDB dialect is not linted: it is checked by running it (tests/contract).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from graphmem.models import (
    Edge,
    Entity,
    Episode,
    Event,
    Fact,
    Hyperedge,
    LifecycleEvent,
    Passage,
)
from graphmem.store.base import WriteBatch, embed_key
from graphmem.store.cypher import queries
from graphmem.store.cypher.dialect import KIND_LABELS
from graphmem.store.cypher.neo4j import Neo4jDialect
from graphmem.store.cypher.store import CypherStore
from graphmem.store.graph import EDGE_WEIGHTS

ROOT = Path(__file__).resolve().parents[3]
LINT_DIR = ROOT / "tools" / "cypherlint"
NEO4J_DIR = ROOT / "cypher" / "neo4j"


def _node() -> str:
    node = shutil.which("node")
    assert node, "node is needed to lint Cypher (Debian: apt-get install nodejs)"
    assert (LINT_DIR / "node_modules" / "@neo4j-cypher" / "language-support").is_dir(), (
        "the Cypher linter is not installed: run `npm ci --prefix tools/cypherlint`"
    )
    return node


def lint(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Diagnostics for ``[{"name", "text", "params"}]`` from tools/cypherlint/lint.mjs."""
    proc = subprocess.run(
        [_node(), str(LINT_DIR / "lint.mjs"), "--json"],
        input=json.dumps(statements),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    assert report["statements"] == len(statements)
    diagnostics: list[dict[str, Any]] = report["diagnostics"]
    return diagnostics


# ------------------------------------------------------------------ a recording Neo4j driver


class _Record:
    def __init__(self, values: tuple[Any, ...]) -> None:
        self._values = values

    def values(self) -> list[Any]:
        return list(self._values)


class _Result:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[_Record]:
        return iter(_Record(r) for r in self._rows)

    def consume(self) -> None:
        return None


class _Tx:
    def __init__(self, driver: RecordingDriver) -> None:
        self.driver = driver

    def run(self, text: str, params: dict[str, Any]) -> _Result:
        self.driver.ran.append((text, dict(params)))
        return _Result(self.driver.answer(text))


class _Session:
    def __init__(self, driver: RecordingDriver) -> None:
        self.driver = driver

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute_read(self, fn: Any) -> Any:
        return fn(_Tx(self.driver))

    def execute_write(self, fn: Any) -> Any:
        return fn(_Tx(self.driver))


class RecordingDriver:
    """Answers like an empty Neo4j 5.26 with GDS, and records every statement it is sent."""

    def __init__(self) -> None:
        self.ran: list[tuple[str, dict[str, Any]]] = []

    def verify_connectivity(self) -> None:
        return None

    def session(self, database: str | None = None) -> _Session:
        return _Session(self)

    def close(self) -> None:
        return None

    def answer(self, text: str) -> list[tuple[Any, ...]]:
        if "dbms.components" in text:
            return [("Neo4j Kernel", "5.26.0", "community")]
        if "gds.version" in text:
            return [("2.13.0",)]
        if "SHOW VECTOR INDEXES" in text:
            return [(f"gm_vector_{label}",) for label in KIND_LABELS.values()]
        if "count(r) AS edges" in text:
            return [(0,)]
        if "gds.pageRank.stream" in text:
            return [("e:a", 0.6), ("p:1", 0.4)]
        # Enough of a graph for delete_source to reach every one of its statements.
        if "RETURN n.id AS id, n.kind AS kind, coalesce(n.sources" in text:
            return [("p:1", "passage", ["doc"]), ("p:2", "passage", ["doc", "other"])]
        if "RETURN nid AS src, type(r) AS type, m.id AS dst" in text:
            return [("p:1", "STATES", "f:1"), ("p:1", "MENTIONS", "e:a"), ("p:1", "STATES", "v:1")]
        if "n.members AS members" in text:
            return [
                ("f:1", "fact", "e:a", "e:b", None),
                ("v:1", "event", None, None, ["e:a"]),
                ("e:a", "entity", None, None, None),
            ]
        return []


# ------------------------------------------------------------------ the workload


def workload(store: CypherStore) -> None:
    ns = "default"
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    p = Passage(id="p:1", text="Alice works at Acme.", source="doc", namespace=ns)
    a = Entity(id="e:a", name="Alice", normalized="alice", namespace=ns)
    b = Entity(id="e:b", name="Acme", normalized="acme", namespace=ns)
    f = Fact(
        id="f:1",
        subject=a.id,
        predicate="works at",
        object=b.id,
        text="Alice works at Acme",
        namespace=ns,
        valid_at=t0,
    )
    ev = Event(id="v:1", description="Alice joined", participants=[a.id], namespace=ns)
    he = Hyperedge(id="h:1", description="team", members=[a.id, b.id], namespace=ns)
    ep = Episode(id="ep:1", text="hi", time=t0, source="chat", namespace=ns)
    edges = [Edge(type=t, src="p:1", dst=a.id, namespace=ns) for t in EDGE_WEIGHTS]  # type: ignore[arg-type]
    edges.append(Edge(type="STATES", src=p.id, dst=f.id, namespace=ns))
    batch = WriteBatch(
        ns,
        passages=[p],
        entities=[a, b],
        facts=[f],
        events=[ev],
        hyperedges=[he],
        episodes=[ep],
        edges=edges,
        embedding_model="m",
        extractions={"x": "{}"},
    )
    for node in batch.nodes():
        batch.vectors[embed_key(node)] = np.ones(4, dtype=np.float32)
    store.write(batch)
    store.cached_vectors("m", ["k"])
    store.cached_extractions(["x"])
    store.existing_passages(ns, [p.id])
    for get in (
        store.get_passages,
        store.get_entities,
        store.get_facts,
        store.get_events,
        store.get_hyperedges,
        store.get_episodes,
    ):
        get(ns, ["x"])
    store.failed_passages(ns)
    store.facts_of_passages(ns, [p.id])
    store.facts_between(ns, [a.id], as_of=t0)
    store.edges_of(ns, [a.id], ["MENTIONS"])
    for kind in KIND_LABELS:
        store.vector_search(ns, kind, np.ones((2, 4), dtype=np.float32), 3)  # type: ignore[arg-type]
    store.text_search(ns, 'Alice "works": at-Acme AND (NOT) ~x', 3)
    store.adjacent(ns, [a.id])
    store.degrees(ns, [a.id])
    store.graph(ns).matrix()
    dialect = store.dialect
    assert isinstance(dialect, Neo4jDialect)
    dialect.vector_scan(ns, "Entity", [[1.0, 0.0, 0.0, 0.0]], 3)
    assert dialect.pagerank(ns, {a.id: 1.0}, {"MENTIONS": 1.0}, damping=0.5, tol=1e-6, max_iter=50)
    store.stats(ns)
    store.namespaces()
    event = LifecycleEvent(node_id=a.id, kind="entity", event="archived", state="archived", at=t0)
    store.record_lifecycle(ns, [event])
    store.lifecycle_events(ns, [a.id])
    store.lifecycle_states(ns, [a.id])
    store.ids_in_state(ns, "archived")
    store.record_recalls(ns, [a.id], t0)
    store.recalls(ns, [a.id])
    store.delete_source(ns, "doc")
    store.delete_namespace(ns)


@pytest.fixture(scope="module")
def captured() -> list[dict[str, Any]]:
    """Every statement the Neo4j dialect ran during the workload, with its declared parameters."""
    seen: dict[str, dict[str, Any]] = {}

    def log(stmt: queries.Statement, params: Any) -> None:
        seen.setdefault(
            stmt.text, {"name": stmt.name, "text": stmt.text, "params": sorted(stmt.params)}
        )

    driver = RecordingDriver()
    dialect = Neo4jDialect("neo4j://fake:7687", driver=driver, log=log)
    store = CypherStore(dialect, url="neo4j://fake:7687")
    workload(store)
    assert len(driver.ran) >= len(seen)
    # Every statement the driver was sent went through the log, so none escapes the linter.
    assert {text for text, _ in driver.ran} == set(seen)
    return list(seen.values())


def file_statements() -> list[dict[str, Any]]:
    files = sorted(NEO4J_DIR.glob("*.cypher"))
    assert len(files) > 30
    out = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        stmt = queries.parse(path.stem, text)  # header and body agree
        out.append({"name": path.name, "text": text, "params": sorted(stmt.params)})
    return out


def rendered_statements() -> list[dict[str, Any]]:
    out = []
    for path in sorted(NEO4J_DIR.glob("*.cypher")):
        stmt = queries.load("neo4j", path.stem)
        for name in stmt.templates:
            values = list(KIND_LABELS.values()) if name == "KIND" else [*EDGE_WEIGHTS, "STATES"]
            for value in values:
                r = stmt.render(**{name: value})
                out.append({"name": r.name, "text": r.text, "params": sorted(r.params)})
    assert len(out) >= 3 * 6
    return out


BAD = [
    {"name": "unknown function", "text": "RETURN vecf32([1.0]) AS v", "params": []},
    {"name": "undeclared parameter", "text": "MATCH (n {id: $id}) RETURN n", "params": []},
    {"name": "syntax", "text": "MATCH (n) RETRUN n", "params": []},
    {
        "name": "unknown procedure",
        "text": "CALL db.idx.vector.queryNodes('A', 'e', 3, [1.0])",
        "params": [],
    },
    {"name": "no APOC", "text": "RETURN apoc.text.join(['a'], ',') AS s", "params": []},
    {"name": "deprecated", "text": "MATCH (n) RETURN id(n) AS i", "params": []},
]
OK = [{"name": "declared", "text": "MATCH (n {id: $id}) RETURN n", "params": ["id"]}]


@pytest.fixture(scope="module")
def diagnostics(captured: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Lint every group in one run of the linter; diagnostics by group."""
    groups = {
        "files": file_statements(),
        "runtime": captured,
        "rendered": rendered_statements(),
        "bad": BAD,
        "ok": OK,
    }
    statements = [
        {**st, "name": f"{group}|{st['name']}"} for group, sts in groups.items() for st in sts
    ]
    out: dict[str, list[dict[str, Any]]] = {group: [] for group in groups}
    for d in lint(statements):
        group, _, name = d["name"].partition("|")
        out[group].append({**d, "name": name})
    return out


def test_every_neo4j_file_lints_clean(diagnostics: dict[str, list[dict[str, Any]]]) -> None:
    assert diagnostics["files"] == []


def test_every_statement_built_at_run_time_lints_clean(
    captured: list[dict[str, Any]], diagnostics: dict[str, list[dict[str, Any]]]
) -> None:
    names = {c["name"].split("[")[0] for c in captured}
    # The workload reaches every kind of statement the store runs.
    for expected in (
        "neo4j/upsert_nodes",
        "neo4j/upsert_edges",
        "neo4j/get_nodes",
        "neo4j/create_vector_index",
        "neo4j/vector_search",
        "neo4j/gds_pagerank",
        "neo4j/entities_kept",
        "neo4j/delete_namespace",
        "neo4j/graph_edges",
        "neo4j/vector_scan",
        "neo4j/degrees",
        "neo4j/promote_stubs",
        "neo4j/text_search",
        "neo4j/create_fulltext_index",
        "neo4j/passages_without_text",
    ):
        assert expected in names, expected
    assert diagnostics["runtime"] == []


def test_every_template_rendering_lints_clean(diagnostics: dict[str, list[dict[str, Any]]]) -> None:
    assert diagnostics["rendered"] == []


def test_the_linter_catches_what_it_must(diagnostics: dict[str, list[dict[str, Any]]]) -> None:
    assert {d["name"] for d in diagnostics["bad"]} == {b["name"] for b in BAD}
    assert diagnostics["ok"] == []
