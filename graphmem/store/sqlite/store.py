"""The embedded store: one SQLite file (WAL), an in-memory graph projection and vector indexes.

Durability and concurrency:

- WAL journal, ``synchronous=NORMAL``: a killed process never corrupts the file and never leaves
  part of a batch (each :class:`WriteBatch` is one ``BEGIN IMMEDIATE`` ... ``COMMIT``).
- Several processes may write one file: a writer waits up to ``busy_timeout`` seconds for another
  one's transaction. Each process notices the others' commits through ``PRAGMA data_version`` and
  reloads its in-memory projection and vectors lazily.
- Threads: one connection per store, shared by all threads and serialized by a re-entrant lock
  (SQLite serializes writers anyway, and the hot read paths, PageRank over the graph view and the
  exact vector product, run on immutable snapshots outside the lock). One connection also means
  ``data_version`` moves only for other processes' commits, never for ours. The file, its
  connection and transactions are :class:`~graphmem.store.sqlite.connection.SQLiteFile`.

In memory, per namespace: a :class:`~graphmem.store.graph.GraphProjection` built on the first
``graph(ns)`` and then fed only the facts and edges each write newly inserted (rebuilt after a
delete or when an existing fact or edge changes its weight), one
:class:`~graphmem.store.sqlite.vectors.VectorIndex` per node kind and one BM25
:class:`~graphmem.store.textindex.TextIndex` per text kind, loaded on the first search and
appended on write (the FTS5 tables, kept in step by triggers, give the word statistics).

>>> from graphmem.models import Passage
>>> from graphmem.store.base import WriteBatch
>>> store = SQLiteStore(":memory:")
>>> _ = store.write(WriteBatch("default", passages=[Passage(id="p:1", text="hi")]))
>>> store.stats("default").passages
1
>>> store.close()
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from os import PathLike
from types import TracebackType
from typing import TypeVar

import numpy as np
from pydantic import BaseModel

from graphmem.errors import ConfigError
from graphmem.models import (
    DeleteReport,
    Edge,
    Entity,
    Episode,
    Event,
    Fact,
    Hyperedge,
    Passage,
    Stats,
)
from graphmem.store.base import (
    FactTable,
    NodeKind,
    Vector,
    WriteBatch,
    WriteResult,
    check_list_ids,
    count_fields,
    own_episode,
    validate_batch,
)
from graphmem.store.graph import CSRGraph, GraphProjection
from graphmem.store.lexical import TextKind, check_text_query, query_terms, text_table
from graphmem.store.sqlite import delete as _delete
from graphmem.store.sqlite import reads as _reads
from graphmem.store.sqlite.fts import TEXT_INDEX_LIMIT, TextSearch
from graphmem.store.sqlite.lifecycle import LifecycleRows
from graphmem.store.sqlite.load import (
    load_fact_table,
    load_index,
    load_projection,
    load_vectors,
    namespace_model,
)
from graphmem.store.sqlite.schema import NODE_TABLES
from graphmem.store.sqlite.state import (
    EPISODE_CACHE,
    MEMORY_NAMESPACES,
    NamespaceStates,
    apply_delta,
)
from graphmem.store.sqlite.vectors import EXACT_LIMIT, VectorIndex
from graphmem.store.sqlite.write import WriteDelta, apply_batch, select_in, write_result
from graphmem.store.threads import single_blas_thread

M = TypeVar("M", bound=BaseModel)


class SQLiteStore(LifecycleRows):
    """The default store: a single SQLite file, or ``":memory:"``.

    ``busy_timeout``: seconds a write waits for another process's transaction.
    ``exact_limit``: rows of one (namespace, kind) above which vector search uses HNSW.
    ``memory_namespaces``: namespaces whose search structures stay in memory at once (the least
    recently used one beyond it is dropped and rebuilt from the file when next searched).
    ``text_index_limit``: texts of a kind above which a namespace's BM25 runs in FTS5, not memory.

    >>> with SQLiteStore(":memory:") as store:
    ...     store.namespaces()
    []
    """

    #: FTS5's bm25() ranks text_search
    text_ranking = "bm25"

    def __init__(
        self,
        path: str | PathLike[str] = ":memory:",
        *,
        busy_timeout: float = 30.0,
        exact_limit: int = EXACT_LIMIT,
        memory_namespaces: int = MEMORY_NAMESPACES,
        text_index_limit: int = TEXT_INDEX_LIMIT,
        url: str | None = None,
        create: bool = True,
    ) -> None:
        self.exact_limit = exact_limit
        if memory_namespaces < 1:
            raise ConfigError(f"memory_namespaces must be at least 1, got {memory_namespaces}")
        self._state = NamespaceStates(memory_namespaces)
        self._models: dict[str, tuple[str | None, int | None]] = {}
        self._text = TextSearch(text_index_limit)
        super().__init__(path, busy_timeout=busy_timeout, url=url, create=create)

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    def _drop_memory(self) -> None:
        self._state.clear()
        self._models.clear()
        self._text.forget()

    # -- writes -------------------------------------------------------------------------------
    def write(self, batch: WriteBatch) -> WriteResult:
        """Apply ``batch`` in one transaction (see :class:`WriteBatch` for the upsert rules);
        return what was new, read inside the transaction (so exact with other writers)."""
        validate_batch(batch)
        if batch.is_empty():
            return WriteResult()
        # The lock spans the commit and the in-memory update, so no reader can load the new rows
        # from the file and then get them a second time from the delta.
        with self._lock:
            with self._transaction(f"writing a batch to namespace {batch.namespace!r}") as conn:
                delta = apply_batch(conn, batch)
                self._collect_vectors(conn, batch, delta)
            self._apply(delta)
        return write_result(delta)

    def _collect_vectors(
        self, conn: sqlite3.Connection, batch: WriteBatch, delta: WriteDelta
    ) -> None:
        """Vectors of the new nodes, for the indexes this process has loaded."""
        state = self._state.get(delta.namespace)
        if state is None or not state.vectors or delta.model is None:
            return
        given = batch.vectors if batch.embedding_model == delta.model else {}
        wanted = {key for kind in state.vectors for _, key in delta.new_nodes.get(kind, [])}
        delta.vectors = {k: given[k] for k in wanted if k in given}
        missing = [k for k in wanted if k not in given]
        delta.vectors.update(load_vectors(conn, delta.model, missing))

    def _apply(self, delta: WriteDelta) -> None:
        """Feed a committed batch to what this process holds in memory (lock held)."""
        ns = delta.namespace
        self._text.forget()
        cached = self._models.get(ns)
        model_changed = cached is not None and cached[0] != delta.model
        if model_changed:
            self._models.pop(ns, None)
        state = self._state.get(ns)
        if state is not None:
            apply_delta(state, delta, model_changed=model_changed, text_limit=self._text.limit)

    def delete_source(self, namespace: str, source: str) -> DeleteReport:
        """Delete ``source``'s passages and episodes and what only they supported."""
        what = f"deleting source {source!r} of namespace {namespace!r}"
        with self._lock:
            with self._transaction(what) as conn:
                report = _delete.delete_source(conn, namespace, source)
            if report != DeleteReport():
                self._forget(namespace)
        return report

    def delete_stale(self, namespace: str, source: str, keep: Sequence[str]) -> DeleteReport:
        """Delete ``source``'s passages not in ``keep`` and what only they supported."""
        what = f"replacing source {source!r} of namespace {namespace!r}"
        with self._lock:
            with self._transaction(what) as conn:
                report = _delete.delete_stale(conn, namespace, source, keep)
            if report != DeleteReport():
                self._forget(namespace)
        return report

    def sources(self, namespace: str, prefix: str = "") -> list[str]:
        """Distinct sources starting with ``prefix``, sorted."""
        with self._reading() as conn:
            return _delete.sources(conn, namespace, prefix)

    def delete_namespace(self, namespace: str) -> DeleteReport:
        """Delete every node and edge of ``namespace``."""
        with self._lock:
            with self._transaction(f"deleting namespace {namespace!r}") as conn:
                report = _delete.delete_namespace(conn, namespace)
            self._forget(namespace)
        return report

    def _forget(self, namespace: str) -> None:
        with self._lock:
            self._text.forget()
            self._state.pop(namespace)
            self._models.pop(namespace, None)

    # -- caches -------------------------------------------------------------------------------
    def cached_vectors(self, model: str, keys: Sequence[str]) -> dict[str, Vector]:
        """Embeddings already stored for these text hashes under ``model``."""
        with self._reading() as conn:
            return load_vectors(conn, model, keys)

    def cached_extractions(self, keys: Sequence[str]) -> dict[str, str]:
        with self._reading() as conn:
            rows = select_in(
                conn, "SELECT key, value FROM extractions WHERE key IN ({ids})", (), keys
            )
            return {str(k): str(v) for k, v in rows}

    # -- reads --------------------------------------------------------------------------------
    def _get(self, model: type[M], table: str, namespace: str, ids: Sequence[str]) -> dict[str, M]:
        with self._reading() as conn:
            sql = f"SELECT id, data FROM {table} WHERE namespace = ? AND id IN ({{ids}})"
            rows = list(select_in(conn, sql, (namespace,), ids))
        return {str(i): model.model_validate_json(d) for i, d in rows}

    def existing_passages(self, namespace: str, ids: Sequence[str]) -> dict[str, str]:
        """Which of ``ids`` exist, with their status ("ok" or "failed")."""
        with self._reading() as conn:
            sql = "SELECT id, status FROM passages WHERE namespace = ? AND id IN ({ids})"
            return {str(i): str(s) for i, s in select_in(conn, sql, (namespace,), ids)}

    def get_passages(self, namespace: str, ids: Sequence[str]) -> dict[str, Passage]:
        return self._get(Passage, "passages", namespace, ids)

    def get_entities(self, namespace: str, ids: Sequence[str]) -> dict[str, Entity]:
        return self._get(Entity, "entities", namespace, ids)

    def get_facts(self, namespace: str, ids: Sequence[str]) -> dict[str, Fact]:
        return self._get(Fact, "facts", namespace, ids)

    def get_events(self, namespace: str, ids: Sequence[str]) -> dict[str, Event]:
        return self._get(Event, "events", namespace, ids)

    def get_hyperedges(self, namespace: str, ids: Sequence[str]) -> dict[str, Hyperedge]:
        return self._get(Hyperedge, "hyperedges", namespace, ids)

    def get_episodes(self, namespace: str, ids: Sequence[str]) -> dict[str, Episode]:
        """Copies (and of their metadata) of the kept episodes: a caller's change never
        reaches them."""
        lent = self.lend_episodes(namespace, ids)
        return {i: own_episode(e) for i, e in lent.items()}

    def lend_episodes(self, namespace: str, ids: Sequence[str]) -> dict[str, Episode]:
        """The episodes themselves, parsed once and kept until a write replaces them: read
        only (a search reads ~600 a question)."""
        with self._reading() as conn:
            cache = self._state.of(namespace).episodes
            missing = [i for i in dict.fromkeys(ids) if i not in cache]
            if len(cache) + len(missing) > EPISODE_CACHE:
                cache.clear()
                missing = list(dict.fromkeys(ids))
            sql = "SELECT id, data FROM episodes WHERE namespace = ? AND id IN ({ids})"
            for i, d in select_in(conn, sql, (namespace,), missing):
                cache[str(i)] = Episode.model_validate_json(d)
            return {i: cache[i] for i in ids if i in cache}

    def failed_passages(self, namespace: str, limit: int = 1000) -> list[Passage]:
        """Passages whose extraction failed, oldest first."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT data FROM passages WHERE namespace = ? AND status = 'failed' "
                "ORDER BY +rowid LIMIT ?",  # +: search the namespace, not scan (see load.py)
                (namespace, limit),
            ).fetchall()
        return [Passage.model_validate_json(r[0]) for r in rows]

    def list_ids(
        self, namespace: str, kind: NodeKind, *, after: str | None = None, limit: int = 1000
    ) -> list[str]:
        """One page of ``kind``'s ids in ``namespace``, ascending, after ``after``: a range of the
        table's (namespace, id) primary-key index, read from the index alone."""
        check_list_ids(kind, after, limit)
        bound, args = ("", ()) if after is None else (" AND id > ?", (after,))
        sql = f"SELECT id FROM {NODE_TABLES[kind]} WHERE namespace = ?{bound} ORDER BY id LIMIT ?"
        with self._reading() as conn:
            rows = conn.execute(sql, (namespace, *args, limit)).fetchall()
        return [str(r[0]) for r in rows]

    def facts_of_passages(self, namespace: str, passage_ids: Sequence[str]) -> dict[str, list[str]]:
        """passage id -> ids of the facts it STATES (passages stating none are left out)."""
        out: dict[str, list[str]] = {}
        with self._reading() as conn:
            for src, dst in select_in(
                conn,
                "SELECT e.src, e.dst FROM edges e JOIN facts f ON f.namespace = e.namespace "
                "AND f.id = e.dst WHERE e.namespace = ? AND e.type = 'STATES' AND e.src IN ({ids})",
                (namespace,),
                passage_ids,
            ):
                out.setdefault(str(src), []).append(str(dst))
        return out

    def facts_between(
        self, namespace: str, entity_ids: Sequence[str], *, as_of: datetime | None = None
    ) -> list[Fact]:
        """Facts whose subject or object is one of ``entity_ids``.

        With ``as_of``, only facts valid then: ``valid_at`` unset or not after it, and
        ``invalid_at`` unset or after it (naive datetimes are taken as UTC).
        """
        with self._reading() as conn, self._snapshot(conn):
            return _reads.facts_between(conn, namespace, entity_ids, as_of)

    def edges_of(
        self, namespace: str, node_ids: Sequence[str], types: Sequence[str] | None = None
    ) -> list[Edge]:
        """Stored edges touching these nodes (either end), optionally only of ``types``."""
        with self._reading() as conn, self._snapshot(conn):
            return _reads.edges_of(conn, namespace, node_ids, types)

    # -- vectors ------------------------------------------------------------------------------
    def _model(self, conn: sqlite3.Connection, namespace: str) -> tuple[str | None, int | None]:
        cached = self._models.get(namespace)
        if cached is not None:
            return cached
        model, dim = namespace_model(conn, namespace)
        if model is not None and dim is not None:
            self._models[namespace] = (model, dim)
        return model, dim

    def _index(
        self, conn: sqlite3.Connection, namespace: str, kind: NodeKind
    ) -> VectorIndex | None:
        state = self._state.of(namespace)
        index = state.vectors.get(kind)
        if index is None:
            with self._snapshot(conn):
                model, dim = self._model(conn, namespace)
                if model is None or dim is None:
                    return None
                index = load_index(conn, namespace, kind, model, dim, exact_limit=self.exact_limit)
            state.vectors[kind] = index
        return index

    def vector_search(
        self, namespace: str, kind: NodeKind, queries: Vector, k: int
    ) -> list[list[tuple[str, float]]]:
        """For each query row, the ``k`` nodes of ``kind`` nearest by cosine: (id, score), best first."""
        if kind not in NODE_TABLES:
            raise ConfigError(f"unknown node kind {kind!r}: use one of {sorted(NODE_TABLES)}")
        q = np.asarray(queries, dtype=np.float32)
        if q.ndim == 1:
            q = q[None, :]
        with self._reading() as conn:
            index = self._index(conn, namespace, kind)
        if index is None or k <= 0 or len(index) == 0:
            return [[] for _ in range(q.shape[0])]
        if q.shape[1] != index.dim:
            raise ConfigError(
                f"query vectors have dim {q.shape[1]}, but namespace {namespace!r} holds "
                f"embeddings of dim {index.dim}"
            )
        return index.search(q, k)

    # -- lexical ------------------------------------------------------------------------------
    def text_search(
        self, namespace: str, query: str, k: int, kind: TextKind = "passage"
    ) -> list[tuple[str, float]]:
        """The ``k`` passages (or episodes) of ``namespace`` best matching ``query`` by BM25: (id,
        score), best first, as FTS5's ``bm25()`` scores them (:mod:`graphmem.store.sqlite.fts`)."""
        check_text_query(query, k)
        text_table(kind)  # refuses another kind
        terms = query_terms(query)
        if not terms or k == 0:
            return []
        with self._reading() as conn:
            texts = self._state.of(namespace).texts
            return self._text.search(conn, texts, namespace, kind, terms, k)

    # -- graph --------------------------------------------------------------------------------
    def _projection(self, conn: sqlite3.Connection, namespace: str) -> GraphProjection:
        state = self._state.of(namespace)
        if state.projection is None:
            with self._snapshot(conn):
                state.projection = load_projection(conn, namespace)
        return state.projection

    def graph(self, namespace: str) -> CSRGraph:
        """The namespace's PageRank graph (built once, then kept in step with writes)."""
        with self._reading() as conn:
            return self._projection(conn, namespace).view()

    def warm(self, namespace: str) -> None:
        """Build what a search of ``namespace`` reads (graph projection and its walk matrix,
        passage, episode and fact vectors, text indexes, the fact table, the parsed episodes) so
        no query pays it; writes then keep it in step."""
        with self._reading() as conn:
            view = self._projection(conn, namespace).view()
            for kind in ("passage", "episode", "fact"):
                self._index(conn, namespace, kind)
            texts = self._state.of(namespace).texts
            self._text.index(conn, texts, namespace, "passage")
            episodes = self._text.index(conn, texts, namespace, "episode")
        if episodes is not None and len(episodes) <= EPISODE_CACHE:
            self.lend_episodes(namespace, episodes.ids)
        view.transition()
        self.fact_table(namespace)
        with single_blas_thread():  # finds the BLAS libraries once (~60 ms), not in a query
            pass

    def fact_table(self, namespace: str) -> FactTable:
        """Every fact of the namespace as columns: the same object until a write changes it."""
        with self._reading() as conn:
            state = self._state.of(namespace)
            if state.facts is None:
                with self._snapshot(conn):
                    state.facts = load_fact_table(conn, namespace)
            return state.facts

    def adjacent(self, namespace: str, ids: Sequence[str]) -> Mapping[str, list[tuple[str, float]]]:
        """PageRank-graph neighbours of each id with edge weights ([] for unknown ids)."""
        view = self.graph(namespace)
        out: dict[str, list[tuple[str, float]]] = {}
        for node_id in ids:
            i = view.index_of(node_id)
            if i is None:
                out[node_id] = []
                continue
            ((nbrs, weights),) = view.neighbors([i])
            out[node_id] = [
                (view.node_id(int(j)), float(w))
                for j, w in zip(nbrs.tolist(), weights.tolist(), strict=True)
            ]
        return out

    # -- bookkeeping --------------------------------------------------------------------------
    def stats(self, namespace: str) -> Stats:
        """Counts of the namespace's nodes and edges (index range counts, no table scan)."""
        with self._reading() as conn, self._snapshot(conn):
            counts = {
                kind: int(
                    conn.execute(
                        f"SELECT COUNT(*) FROM {table} WHERE namespace = ?", (namespace,)
                    ).fetchone()[0]
                )
                for kind, table in NODE_TABLES.items()
            }
            edges = conn.execute("SELECT COUNT(*) FROM edges WHERE namespace = ?", (namespace,))
            n_edges = int(edges.fetchone()[0])
            failed = conn.execute(
                "SELECT COUNT(*) FROM passages WHERE namespace = ? AND status = 'failed'",
                (namespace,),
            ).fetchone()[0]
        return Stats(
            namespace=namespace,
            **count_fields(counts),
            edges=n_edges,
            failed_passages=int(failed),
        )

    def namespaces(self) -> list[str]:
        """Namespaces written to (and not deleted), sorted."""
        with self._reading() as conn:
            rows = conn.execute("SELECT namespace FROM namespaces ORDER BY namespace").fetchall()
        return [str(r[0]) for r in rows]
