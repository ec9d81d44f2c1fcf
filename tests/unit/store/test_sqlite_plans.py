"""A namespace's first query reads its own rows: the loads search the namespace's index, never
scan the whole file (a file shared by 60 histories made every first query 5x slower)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from graphmem.ids import entity_id, episode_id, fact_id, normalize_name
from graphmem.models import Edge, Entity, Episode, Fact
from graphmem.store.base import WriteBatch, embed_key
from graphmem.store.sqlite import SQLiteStore
from graphmem.store.sqlite.load import load_fact_table, load_index, load_projection

MODEL = "plan-model"
DIM = 8


def _batch(ns: str) -> WriteBatch:
    batch = WriteBatch(ns, embedding_model=MODEL)
    rng = np.random.default_rng(len(ns))
    for i in range(5):
        name = f"Person {i}"
        ent = Entity(
            id=entity_id(ns, name), name=name, normalized=normalize_name(name), namespace=ns
        )
        fact = Fact(
            id=fact_id(ns, name, "likes", "Tea"),
            subject=ent.id,
            predicate="likes",
            object=entity_id(ns, "Tea"),
            text=f"{name} likes Tea",
            namespace=ns,
        )
        ep = Episode(
            id=episode_id(ns, f"s{i}", f"2024-01-0{i + 1}", "ada", f"turn {i}"),
            namespace=ns,
            text=f"ada: {name} likes tea",
            time=f"2024-01-0{i + 1}T00:00:00+00:00",
            session=f"s{i}",
        )
        batch.entities.append(ent)
        batch.facts.append(fact)
        batch.episodes.append(ep)
        batch.edges.append(Edge(type="EVIDENCE", src=ep.id, dst=fact.id, namespace=ns))
    tea = Entity(id=entity_id(ns, "Tea"), name="Tea", normalized="tea", namespace=ns)
    batch.entities.append(tea)
    for node in batch.nodes():
        batch.vectors[embed_key(node)] = rng.normal(size=DIM).astype(np.float32)
    return batch


def test_loads_search_the_namespace_index_not_the_whole_file(tmp_path: Path) -> None:
    db = tmp_path / "plans.db"
    with SQLiteStore(db) as store:
        for ns in ("alpha", "beta", "gamma"):
            store.write(_batch(ns))
    conn = sqlite3.connect(db)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    proj = load_projection(conn, "beta")
    index = load_index(conn, "beta", "fact", MODEL, DIM, exact_limit=1000)
    table = load_fact_table(conn, "beta")
    conn.set_trace_callback(None)
    assert len(index) == 5 and len(table.ids) == 5 and proj is not None
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert selects
    for sql in selects:
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
        scans = [step for step in plan if step.startswith("SCAN")]
        assert not scans, f"{sql!r} scans: {plan}"
