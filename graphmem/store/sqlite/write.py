"""Applying one :class:`~graphmem.store.base.WriteBatch` to the SQLite file (inside a transaction).

The caller opens the transaction; :func:`apply_batch` runs the statements (``executemany`` per
table, one chunked ``IN`` query per table to learn which rows already exist: never a SELECT per
row) and returns a :class:`WriteDelta` that says what was *newly* inserted, so the in-memory graph
projection and vector indexes can be fed exactly that after the commit (re-ingesting the same batch
adds nothing to them).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pydantic_core

from graphmem.errors import ConfigError, InputError
from graphmem.models import Edge, Entity, Episode, Event, Fact, Hyperedge, Passage
from graphmem.store.base import (
    AnyNode,
    NodeKind,
    Vector,
    WriteBatch,
    WriteResult,
    canonical,
    embed_key,
    kind_of,
)
from graphmem.store.graph import EDGE_WEIGHTS

#: ids per ``IN (...)`` query; below SQLite's oldest default limit of 999 variables
CHUNK = 900


@dataclass
class WriteDelta:
    """What a committed batch changed, for the in-memory projection and vector indexes."""

    namespace: str
    #: the namespace's embedding model after the batch (None: no vectors yet)
    model: str | None = None
    #: kind -> (id, embed key) of nodes that did not exist before
    new_nodes: dict[NodeKind, list[tuple[str, str]]] = field(default_factory=dict)
    new_facts: list[Fact] = field(default_factory=list)
    new_edges: list[Edge] = field(default_factory=list)
    #: an existing fact or edge changed its PageRank contribution: rebuild the projection
    graph_stale: bool = False
    #: kinds where an existing node changed its embedding text: rebuild that vector index
    stale_vectors: set[NodeKind] = field(default_factory=set)
    #: embedding keys newly stored with the namespace's model
    new_vector_keys: set[str] = field(default_factory=set)
    #: kind -> (id, text) of new passages and episodes, for the text indexes
    new_texts: dict[NodeKind, list[tuple[str, str]]] = field(default_factory=dict)
    #: kinds where an existing node changed its text: rebuild that text index
    stale_texts: set[NodeKind] = field(default_factory=set)
    #: every episode the batch wrote (new or replaced)
    episode_ids: list[str] = field(default_factory=list)
    #: vectors (of the namespace's model) for ``new_nodes``, filled by the store when it needs them
    vectors: dict[str, Vector] = field(default_factory=dict)


def write_result(delta: WriteDelta) -> WriteResult:
    """What a committed batch newly stored."""
    result = WriteResult({k: {i for i, _ in rows} for k, rows in delta.new_nodes.items()})
    for e in delta.new_edges:
        result.new_edges[e.type] = result.new_edges.get(e.type, 0) + 1
    return result


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def marks(n: int) -> str:
    return ",".join("?" * n)


def select_in(
    conn: sqlite3.Connection, sql: str, prefix: Sequence[Any], ids: Iterable[str]
) -> Iterator[tuple[Any, ...]]:
    """Run ``sql`` (with an ``{in}`` placeholder for the id list) once per chunk of ``ids``."""
    unique = list(dict.fromkeys(ids))
    for part in chunks(unique):
        yield from conn.execute(sql.format(ids=marks(len(part))), (*prefix, *part))


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def parse_iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def dump(node: AnyNode) -> str:
    """The node as JSON; a value JSON cannot hold (a lone surrogate) is an error naming the node."""
    try:
        return node.model_dump_json()
    except pydantic_core.PydanticSerializationError as exc:
        raise InputError(f"{kind_of(node)} {node.id!r} cannot be stored: {exc}") from exc


def apply_batch(conn: sqlite3.Connection, batch: WriteBatch) -> WriteDelta:
    """Run every statement of ``batch`` on ``conn`` (in the caller's transaction)."""
    ns = batch.namespace
    delta = WriteDelta(namespace=ns)
    has_nodes = any(True for _ in batch.nodes())
    delta.model = _write_namespace(conn, batch, has_nodes)
    _write_vectors(conn, batch, delta)
    if batch.extractions:
        conn.executemany(
            "INSERT OR REPLACE INTO extractions (key, value) VALUES (?, ?)",
            list(batch.extractions.items()),
        )
    _write_passages(conn, ns, batch.passages, delta)
    _write_sources(conn, ns, batch)
    _write_entities(conn, ns, batch.entities, delta)
    _write_facts(conn, ns, batch.facts, delta)
    _write_plain(conn, "events", ns, batch.events, delta)
    _write_plain(conn, "hyperedges", ns, batch.hyperedges, delta)
    _write_episodes(conn, ns, batch.episodes, delta)
    _write_edges(conn, ns, batch.edges, delta)
    return delta


def _write_namespace(conn: sqlite3.Connection, batch: WriteBatch, has_nodes: bool) -> str | None:
    ns, model = batch.namespace, batch.embedding_model
    row = conn.execute(
        "SELECT embedding_model FROM namespaces WHERE namespace = ?", (ns,)
    ).fetchone()
    if row is None:
        conn.execute(
            "INSERT INTO namespaces (namespace, embedding_model, created_at) VALUES (?, ?, ?)",
            (ns, model if has_nodes else None, datetime.now(UTC).isoformat()),
        )
        return model if has_nodes else None
    current: str | None = row[0]
    if model and has_nodes and current is None:
        conn.execute("UPDATE namespaces SET embedding_model = ? WHERE namespace = ?", (model, ns))
        return model
    if model and has_nodes and current != model:
        raise ConfigError(
            f"namespace {ns!r} holds embeddings of model {current!r}; this batch uses {model!r}. "
            "Use the same embedder, or another namespace or store for the new model."
        )
    return current


def _write_vectors(conn: sqlite3.Connection, batch: WriteBatch, delta: WriteDelta) -> None:
    model = batch.embedding_model
    if not batch.vectors or model is None:
        return
    rows = [(k, np.asarray(v, dtype=np.float32)) for k, v in batch.vectors.items()]
    dim = rows[0][1].size
    row = conn.execute("SELECT dim FROM vectors WHERE model = ? LIMIT 1", (model,)).fetchone()
    if row is not None and int(row[0]) != dim:
        raise InputError(
            f"model {model!r} has vectors of dim {row[0]} in this store; the batch has dim {dim}",
            field="vectors",
        )
    conn.executemany(
        "INSERT OR IGNORE INTO vectors (model, key, dim, vec) VALUES (?, ?, ?, ?)",
        [(model, k, dim, v.tobytes()) for k, v in rows],
    )
    if model == delta.model:
        delta.new_vector_keys.update(k for k, _ in rows)


def _existing(
    conn: sqlite3.Connection, table: str, columns: str, ns: str, ids: Iterable[str]
) -> dict[str, tuple[Any, ...]]:
    sql = f"SELECT id, {columns} FROM {table} WHERE namespace = ? AND id IN ({{ids}})"
    return {str(r[0]): tuple(r[1:]) for r in select_in(conn, sql, (ns,), ids)}


def _new_node(delta: WriteDelta, kind: NodeKind, node_id: str, key: str) -> None:
    delta.new_nodes.setdefault(kind, []).append((node_id, key))


def _write_passages(
    conn: sqlite3.Connection, ns: str, passages: list[Passage], delta: WriteDelta
) -> None:
    if not passages:
        return
    by_id = {p.id: p for p in passages}
    # A new passage's display source is the first one the batch gives (as passage_sources).
    first_source: dict[str, str | None] = {}
    for p in passages:
        if first_source.get(p.id) is None:
            first_source[p.id] = p.source
    old = _existing(conn, "passages", "status", ns, by_id)
    inserts, updates = [], []
    for p in by_id.values():
        if p.id in old:
            meta = pydantic_core.to_json(p.metadata).decode()
            updates.append((p.status, p.status, p.error, meta, ns, p.id))
        else:
            key = embed_key(p)
            if p.source != first_source[p.id]:
                p = p.model_copy(update={"source": first_source[p.id]})
            inserts.append((ns, p.id, p.source, p.status, key, dump(p)))
            _new_node(delta, "passage", p.id, key)
            delta.new_texts.setdefault("passage", []).append((p.id, p.text))
    conn.executemany(
        "INSERT INTO passages (namespace, id, source, status, embed_key, data) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        inserts,
    )
    # A retried passage: only its outcome changes, its text and provenance stay.
    conn.executemany(
        "UPDATE passages SET status = ?, data = json_set(data, '$.status', ?, '$.error', ?, "
        "'$.metadata', json(?)) WHERE namespace = ? AND id = ?",
        updates,
    )


def _write_sources(conn: sqlite3.Connection, ns: str, batch: WriteBatch) -> None:
    """Record every source of the batch's passages, and the extra ones it names, once each."""
    rows = [(ns, p.id, p.source) for p in batch.passages if p.source is not None]
    if rows:
        conn.executemany(
            "INSERT OR IGNORE INTO passage_sources (namespace, passage_id, source) VALUES (?, ?, ?)",
            rows,
        )
    if batch.sources:
        # Only for passages that exist: a source of nothing would outlive every delete.
        conn.executemany(
            "INSERT OR IGNORE INTO passage_sources (namespace, passage_id, source) "
            "SELECT namespace, id, ? FROM passages WHERE namespace = ? AND id = ?",
            [(source, ns, pid) for pid, source in batch.sources],
        )


def _write_entities(
    conn: sqlite3.Connection, ns: str, entities: list[Entity], delta: WriteDelta
) -> None:
    if not entities:
        return
    by_id: dict[str, Entity] = {}
    for e in entities:
        prev = by_id.get(e.id)
        by_id[e.id] = e if prev is None else _merge_entity(prev, e)
    old = _existing(
        conn,
        "entities",
        "json_extract(data, '$.name'), json_extract(data, '$.aliases'), json_extract(data, '$.type') IS NULL",
        ns,
        by_id,
    )
    inserts, updates = [], []
    for e in by_id.values():
        stored = old.get(e.id)
        if stored is None:
            key = embed_key(e)
            inserts.append((ns, e.id, e.normalized, key, dump(e)))
            _new_node(delta, "entity", e.id, key)
            continue
        # Most re-mentioned entities add nothing: decide that without parsing the stored row.
        name, aliases, untyped = stored
        known = {name, *json.loads(aliases)}
        if all(a in known for a in e.aliases) and not (untyped and e.type is not None):
            continue
        updates.append((e.id, e))
    if updates:
        rows = _existing(conn, "entities", "data", ns, [i for i, _ in updates])
        conn.executemany(
            "UPDATE entities SET data = ? WHERE namespace = ? AND id = ?",
            [
                (dump(_merge_entity(Entity.model_validate_json(rows[i][0]), e)), ns, i)
                for i, e in updates
            ],
        )
    conn.executemany(
        "INSERT INTO entities (namespace, id, normalized, embed_key, data) VALUES (?, ?, ?, ?, ?)",
        inserts,
    )


def _merge_entity(old: Entity, new: Entity) -> Entity:
    """``old`` with the aliases (and type, if it had none) that ``new`` adds."""
    known = {old.name, *old.aliases}
    extra = [a for a in dict.fromkeys(new.aliases) if a not in known]
    if not extra and (old.type is not None or new.type is None):
        return old
    return old.model_copy(update={"aliases": [*old.aliases, *extra], "type": old.type or new.type})


def _write_facts(conn: sqlite3.Connection, ns: str, facts: list[Fact], delta: WriteDelta) -> None:
    if not facts:
        return
    by_id = {f.id: f for f in facts}
    old = _existing(conn, "facts", "subject, object, invalid_at, expired_at, embed_key", ns, by_id)
    rows = []
    for f in by_id.values():
        key = embed_key(f)
        rows.append(
            (ns, f.id, f.subject, f.object, iso(f.invalid_at), iso(f.expired_at), key, dump(f))
        )
        prev = old.get(f.id)
        if prev is None:
            delta.new_facts.append(f)
            _new_node(delta, "fact", f.id, key)
            continue
        subject, obj, invalid_at, expired_at, prev_key = prev
        was_current = invalid_at is None and expired_at is None
        is_current = f.invalid_at is None and f.expired_at is None
        if (subject, obj, was_current) != (f.subject, f.object, is_current):
            delta.graph_stale = True
        if prev_key != key:
            delta.stale_vectors.add("fact")
    conn.executemany(
        "INSERT INTO facts (namespace, id, subject, object, invalid_at, expired_at, embed_key, "
        "data) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (namespace, id) DO UPDATE SET "
        "subject = excluded.subject, object = excluded.object, invalid_at = excluded.invalid_at, "
        "expired_at = excluded.expired_at, embed_key = excluded.embed_key, data = excluded.data",
        rows,
    )


def _write_plain(
    conn: sqlite3.Connection,
    table: str,
    ns: str,
    nodes: Sequence[Event | Hyperedge],
    delta: WriteDelta,
) -> None:
    if not nodes:
        return
    by_id = {n.id: n for n in nodes}
    old = _existing(conn, table, "embed_key", ns, by_id)
    rows = []
    for n in by_id.values():
        key = embed_key(n)
        rows.append((ns, n.id, key, dump(n)))
        prev = old.get(n.id)
        if prev is None:
            _new_node(delta, kind_of(n), n.id, key)
        elif prev[0] != key:
            delta.stale_vectors.add(kind_of(n))
    conn.executemany(
        f"INSERT INTO {table} (namespace, id, embed_key, data) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (namespace, id) DO UPDATE SET embed_key = excluded.embed_key, "
        "data = excluded.data",
        rows,
    )


def _write_episodes(
    conn: sqlite3.Connection, ns: str, episodes: list[Episode], delta: WriteDelta
) -> None:
    if not episodes:
        return
    by_id = {e.id: e for e in episodes}
    delta.episode_ids.extend(by_id)
    old = _existing(conn, "episodes", "embed_key", ns, by_id)
    rows = []
    for e in by_id.values():
        key = embed_key(e)
        rows.append((ns, e.id, e.source, e.session, e.time.isoformat(), key, dump(e)))
        prev = old.get(e.id)
        if prev is None:
            _new_node(delta, "episode", e.id, key)
            delta.new_texts.setdefault("episode", []).append((e.id, e.text))
        elif prev[0] != key:  # the key hashes the text
            delta.stale_vectors.add("episode")
            delta.stale_texts.add("episode")
    conn.executemany(
        "INSERT INTO episodes (namespace, id, source, session, time, embed_key, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (namespace, id) DO UPDATE SET "
        "source = excluded.source, session = excluded.session, time = excluded.time, "
        "embed_key = excluded.embed_key, data = excluded.data",
        rows,
    )


def _write_edges(conn: sqlite3.Connection, ns: str, edges: list[Edge], delta: WriteDelta) -> None:
    if not edges:
        return
    by_key: dict[tuple[str, str, str], Edge] = {}  # (type, src, dst)
    for e in map(canonical, edges):
        ekey: tuple[str, str, str] = (e.type, e.src, e.dst)
        seen = by_key.get(ekey)
        if seen is None:
            by_key[ekey] = e
        elif e.weight > seen.weight or (e.props and e.props != seen.props):
            merged = {**seen.props, **e.props}
            by_key[ekey] = seen.model_copy(
                update={"weight": max(seen.weight, e.weight), "props": merged}
            )
    # Which keys exist: one join through a temp table rather than a query per edge.
    conn.execute("DELETE FROM temp.batch_edges")
    conn.executemany("INSERT INTO temp.batch_edges (type, src, dst) VALUES (?, ?, ?)", list(by_key))
    old: dict[tuple[str, str, str], tuple[float, str]] = {
        (r[0], r[1], r[2]): (float(r[3]), str(r[4]))
        for r in conn.execute(
            "SELECT e.type, e.src, e.dst, e.weight, e.props FROM temp.batch_edges b "
            "JOIN edges e ON e.namespace = ? AND e.src = b.src AND e.type = b.type "
            "AND e.dst = b.dst",
            (ns,),
        )
    }
    rows = []
    for edge_key, e in by_key.items():
        props = pydantic_core.to_json(e.props).decode() if e.props else "{}"
        stored = old.get(edge_key)
        if stored is None:
            delta.new_edges.append(e)
        elif e.weight > stored[0]:
            if e.type in EDGE_WEIGHTS:
                delta.graph_stale = True
        elif props in ("{}", stored[1]):
            continue  # nothing to change
        rows.append((ns, e.type, e.src, e.dst, e.weight, props))
    conn.executemany(
        "INSERT INTO edges (namespace, type, src, dst, weight, props) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (namespace, src, type, dst) DO UPDATE SET "
        "weight = max(edges.weight, excluded.weight), "
        "props = CASE WHEN excluded.props = '{}' THEN edges.props ELSE excluded.props END",
        rows,
    )
