"""Loading what the SQLite store keeps in memory: the graph projection, vector and text indexes.

Each function reads with the caller's connection; the caller wraps several of them in one read
transaction when they must see one state of the file.

Reads in insertion order say ``ORDER BY +rowid``: with a bare ``rowid`` SQLite satisfies the order
by scanning the whole table (every namespace's rows); the unary plus makes it search the
namespace's index and sort, so a first query costs what its namespace holds, not the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np

from graphmem.store.base import FactTable, NodeKind, Vector
from graphmem.store.graph import GraphProjection, ppr_edge_rows
from graphmem.store.sqlite.schema import NODE_TABLES
from graphmem.store.sqlite.vectors import VectorIndex
from graphmem.store.sqlite.write import parse_iso, select_in
from graphmem.store.textindex import TextIndex

#: node kinds that are nodes of the PageRank graph (facts are its edges)
GRAPH_KINDS: tuple[NodeKind, ...] = ("passage", "entity", "event", "hyperedge", "episode")


def load_vectors(conn: sqlite3.Connection, model: str, keys: Sequence[str]) -> dict[str, Vector]:
    """Stored vectors of ``model`` for these text hashes (missing ones left out)."""
    out: dict[str, Vector] = {}
    for key, vec in select_in(
        conn, "SELECT key, vec FROM vectors WHERE model = ? AND key IN ({ids})", (model,), keys
    ):
        out[str(key)] = np.frombuffer(vec, dtype=np.float32).copy()
    return out


def namespace_model(conn: sqlite3.Connection, namespace: str) -> tuple[str | None, int | None]:
    """The namespace's embedding model and its vector dim (None when not known yet)."""
    row = conn.execute(
        "SELECT embedding_model FROM namespaces WHERE namespace = ?", (namespace,)
    ).fetchone()
    model: str | None = None if row is None else row[0]
    if model is None:
        return None, None
    drow = conn.execute("SELECT dim FROM vectors WHERE model = ? LIMIT 1", (model,)).fetchone()
    return model, None if drow is None else int(drow[0])


def load_index(
    conn: sqlite3.Connection,
    namespace: str,
    kind: NodeKind,
    model: str,
    dim: int,
    *,
    exact_limit: int,
) -> VectorIndex:
    """The vector index of one (namespace, kind): each node's vector, found by its embed key."""
    index = VectorIndex(dim, exact_limit=exact_limit)
    ids: list[str] = []
    blobs: list[bytes] = []
    for node_id, key, vec in conn.execute(
        f"SELECT n.id, n.embed_key, v.vec FROM {NODE_TABLES[kind]} n LEFT JOIN vectors v "
        "ON v.model = ? AND v.key = n.embed_key WHERE n.namespace = ? ORDER BY +n.rowid",
        (model, namespace),
    ):
        if vec is None:
            index.missing_keys.add(str(key))
        else:
            ids.append(str(node_id))
            blobs.append(vec)
    if ids:
        index.append(ids, np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), dim))
    return index


def load_text_index(conn: sqlite3.Connection, namespace: str, kind: NodeKind) -> TextIndex:
    """The BM25 index of the namespace's ``kind`` texts (passages or episodes)."""
    index = TextIndex()
    rows = conn.execute(
        f"SELECT id, json_extract(data, '$.text') FROM {NODE_TABLES[kind]} "
        "WHERE namespace = ? ORDER BY +rowid",
        (namespace,),
    )
    index.add((str(i), str(t or "")) for i, t in rows)
    return index


def load_projection(conn: sqlite3.Connection, namespace: str) -> GraphProjection:
    """The namespace's PageRank graph, from every stored node, fact and edge."""
    proj = GraphProjection()
    for kind in GRAPH_KINDS:
        proj.add_nodes(
            str(r[0])
            for r in conn.execute(
                f"SELECT id FROM {NODE_TABLES[kind]} WHERE namespace = ? ORDER BY +rowid",
                (namespace,),
            )
        )
    # Plain rows, not models: building 100k pydantic models would dominate the load.
    facts = conn.execute(
        "SELECT subject, object, invalid_at IS NULL AND expired_at IS NULL FROM facts "
        "WHERE namespace = ? ORDER BY +rowid",
        (namespace,),
    ).fetchall()
    edges = conn.execute(
        "SELECT type, src, dst, weight FROM edges WHERE namespace = ?", (namespace,)
    ).fetchall()
    proj.add_edges(ppr_edge_rows(((s, o, bool(c)) for s, o, c in facts), edges))
    return proj


def load_fact_table(conn: sqlite3.Connection, namespace: str) -> FactTable:
    """Every fact of the namespace as columns, read as rows (JSON fields extracted by SQLite)."""
    rows = conn.execute(
        "SELECT id, subject, object, json_extract(data, '$.predicate'), "
        "json_extract(data, '$.text'), json_extract(data, '$.valid_at'), invalid_at, expired_at "
        "FROM facts WHERE namespace = ? ORDER BY +rowid",
        (namespace,),
    ).fetchall()
    evidence = conn.execute(
        "SELECT src, dst FROM edges WHERE namespace = ? AND type = 'EVIDENCE' "
        "AND substr(dst, 1, 2) = 'f:'",
        (namespace,),
    ).fetchall()
    cols = list(zip(*rows, strict=True)) if rows else [()] * 8
    return FactTable(
        ids=[str(x) for x in cols[0]],
        subjects=[str(x) for x in cols[1]],
        objects=[str(x) for x in cols[2]],
        predicates=[str(x) for x in cols[3]],
        texts=[str(x) for x in cols[4]],
        valid_at=[parse_iso(x) for x in cols[5]],
        invalid_at=[parse_iso(x) for x in cols[6]],
        expired_at=[parse_iso(x) for x in cols[7]],
        evidence=[(str(s), str(d)) for s, d in evidence],
    )
