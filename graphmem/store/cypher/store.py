"""The Cypher store: :class:`graphmem.store.base.Store` over Neo4j or FalkorDB.

Layout in the graph (the same for both dialects):

- every node of :mod:`graphmem.models` is a ``GmNode`` keyed by ``(namespace, id)``, with its
  kind's label (``Passage``, ``Entity``, ``Fact``, ...), its model as JSON in ``data``, the
  properties queries filter on, and ``embedding`` (the vector of its embedding text, for the
  native vector index of its label);
- stored edges are relationships of their type (``MENTIONS``, ``STATES``, ...) with ``weight``
  and ``props`` (JSON); an edge to a node that does not exist yet creates a stub ``GmNode``
  without a kind, filled in when the node arrives (the embedded store allows such edges too);
- a fact is also a ``RELATES`` relationship between its entities, for traversal;
- the caches are ``GmVector`` (model, key) and ``GmExtraction`` (key) nodes; ``GmNamespace`` and
  ``GmModel`` record each namespace's embedding model and each model's dimension.

Every write of a batch goes through one :meth:`Dialect.transaction`, reads first, then writes
(what that guarantees on each server: :mod:`~graphmem.store.cypher.dialect`).

>>> from graphmem.store import open_store               # doctest: +SKIP
>>> store = open_store("falkordb://127.0.0.1:6379/memory")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel

from graphmem.errors import ConfigError, GraphmemError, StoreError, TransactionFailed
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
    NODE_KINDS,
    NodeKind,
    Vector,
    WriteBatch,
    check_list_ids,
    count_fields,
    validate_batch,
)
from graphmem.store.cypher import rows as R
from graphmem.store.cypher.delete import NamespaceDeleter, SourceDeleter, StaleDeleter
from graphmem.store.cypher.dialect import KIND_LABELS, PPR_WEIGHTS, Dialect
from graphmem.store.cypher.graphview import CypherGraphView
from graphmem.store.cypher.lifecycle import CypherLifecycle
from graphmem.store.cypher.write import (
    BatchWriter,
    backfill_passage_text,
    check_vectors,
    chunks,
)
from graphmem.store.lexical import (
    TEXT_LABELS,
    TextKind,
    check_text_query,
    query_terms,
    text_table,
)
from graphmem.validity import utc

M = TypeVar("M", bound=BaseModel)

#: node kinds that are nodes of the PageRank graph (facts are its edges)
GRAPH_KINDS: tuple[NodeKind, ...] = ("passage", "entity", "event", "hyperedge", "episode")
#: the most neighbours a vector search asks the index for before giving up on a namespace
MAX_FETCH = 20_000

_MODELS: dict[NodeKind, type[BaseModel]] = {
    "passage": Passage,
    "entity": Entity,
    "fact": Fact,
    "event": Event,
    "hyperedge": Hyperedge,
    "episode": Episode,
}


class CypherStore(CypherLifecycle):
    """A :class:`~graphmem.store.base.Store` on a Cypher server, through a :class:`Dialect`.

    Open one with :func:`graphmem.store.open_store` (``neo4j://``, ``bolt://``,
    ``falkordb://``); ``ensure_schema`` creates the constraints and indexes (idempotent).
    """

    def __init__(self, dialect: Dialect, *, url: str, ensure_schema: bool = True) -> None:
        self.url = url
        self.dialect = dialect
        self.text_ranking = dialect.text_ranking
        self._lock = threading.RLock()
        self._ns_models: dict[str, str] = {}
        self._dims: dict[str, int] = {}
        self._views: dict[str, CypherGraphView] = {}
        self._closed = False
        if ensure_schema:
            dialect.ensure_schema()
            backfill_passage_text(dialect)

    def __repr__(self) -> str:
        return f"CypherStore({self.dialect.display_url!r})"

    def __enter__(self) -> CypherStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._views.clear()
                self.dialect.close()

    def ping(self, timeout: float) -> None:
        self._open().ping(timeout)

    def _open(self) -> Dialect:
        if self._closed:
            raise StoreError(f"{self.dialect.display_url}: the store is closed")
        return self.dialect

    def _read(
        self, name: str, params: Mapping[str, Any], **templates: str
    ) -> list[tuple[Any, ...]]:
        dialect = self._open()
        return dialect.read(dialect.statement(name, **templates), params)

    # -- models and vector indexes ------------------------------------------------------------
    def _namespace_model(self, namespace: str) -> str | None:
        model = self._ns_models.get(namespace)
        if model is None:
            rows = self._read("get_namespace", {"ns": namespace})
            if rows and rows[0][0] is not None:
                model = str(rows[0][0])
                self._ns_models[namespace] = model
        return model

    def _model_dims(self) -> dict[str, int]:
        if not self._dims:
            self._dims = {str(n): int(d) for n, d in self._read("list_models", {}) if d is not None}
        return self._dims

    def _ensure_vector_indexes(self, dim: int) -> None:
        for kind in NODE_KINDS:
            self.dialect.ensure_vector_index(KIND_LABELS[kind], dim)

    # -- writes -------------------------------------------------------------------------------
    def write(self, batch: WriteBatch) -> None:
        """Apply ``batch`` as one unit of work (see :class:`WriteBatch` for the upsert rules).

        Returns None: what was new is not known here (FalkorDB's reads run outside its write).
        """
        validate_batch(batch)
        if batch.is_empty():
            return
        ns = batch.namespace
        has_nodes = any(True for _ in batch.nodes())
        with self._lock:
            self._open()
            dim = check_vectors(batch, self._model_dims, self.dialect.display_url)
            if dim is not None:
                self._ensure_vector_indexes(dim)
            current = self._namespace_model(ns)
            model = batch.embedding_model
            if model and has_nodes and current is not None and current != model:
                raise ConfigError(
                    f"namespace {ns!r} holds embeddings of model {current!r}; this batch uses "
                    f"{model!r}. Use the same embedder, or another namespace or store."
                )
            ns_model = current or (model if has_nodes else None)
            work = BatchWriter(self.dialect, batch, ns_model, dim)
            try:
                self.dialect.transaction(work, what=f"writing a batch to namespace {ns!r}")
            except GraphmemError:
                raise
            except Exception as exc:
                raise TransactionFailed(
                    f"{self.dialect.display_url}: writing a batch to namespace {ns!r} failed: {exc}"
                ) from exc
            if ns_model is not None:
                self._ns_models[ns] = ns_model
            if dim is not None and model is not None:
                self._dims[model] = dim
            view = self._views.get(ns)
            if view is not None:
                view.note_write(R.ppr_touched(batch.nodes(), batch.facts, batch.edges))

    def delete_source(self, namespace: str, source: str) -> DeleteReport:
        """Delete ``source``'s passages and episodes and what only they supported."""
        with self._lock:
            deleter = SourceDeleter(self._open(), namespace, source)
            report = self.dialect.transaction(
                deleter, what=f"deleting source {source!r} of namespace {namespace!r}"
            )
            if report != DeleteReport():
                deleter.sweep_stubs()
                self._views.pop(namespace, None)
        return report

    def delete_stale(self, namespace: str, source: str, keep: Sequence[str]) -> DeleteReport:
        """Delete ``source``'s passages not in ``keep`` and what only they supported."""
        with self._lock:
            deleter = StaleDeleter(self._open(), namespace, source, set(keep))
            report = self.dialect.transaction(
                deleter, what=f"replacing source {source!r} of namespace {namespace!r}"
            )
            if report != DeleteReport():
                deleter.sweep_stubs()
                self._views.pop(namespace, None)
        return report

    def sources(self, namespace: str, prefix: str = "") -> list[str]:
        """Distinct sources starting with ``prefix``, sorted."""
        rows = self._read("list_sources", {"ns": namespace, "prefix": prefix})
        return sorted(str(r[0]) for r in rows if r[0] is not None)

    def delete_namespace(self, namespace: str) -> DeleteReport:
        """Delete every node and edge of ``namespace``, its extraction-cache rows and the
        vectors no other namespace uses."""
        with self._lock:
            self._open()
            work = NamespaceDeleter(self.dialect, namespace)
            report = self.dialect.transaction(work, what=f"deleting namespace {namespace!r}")
            self._views.pop(namespace, None)
            self._ns_models.pop(namespace, None)
        return report

    # -- caches -------------------------------------------------------------------------------
    def cached_vectors(self, model: str, keys: Sequence[str]) -> dict[str, Vector]:
        """Embeddings already stored for these text hashes under ``model``."""
        out: dict[str, Vector] = {}
        for part in chunks(keys):
            for key, vec in self._read("get_vectors", {"model": model, "keys": part}):
                out[str(key)] = np.asarray(vec, dtype=np.float32)
        return out

    def cached_extractions(self, keys: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for part in chunks(keys):
            for key, value in self._read("get_extractions", {"keys": part}):
                out[str(key)] = str(value)
        return out

    # -- reads --------------------------------------------------------------------------------
    def existing_passages(self, namespace: str, ids: Sequence[str]) -> dict[str, str]:
        """Which of ``ids`` exist, with their status ("ok" or "failed")."""
        out: dict[str, str] = {}
        for part in chunks(ids):
            for node_id, status in self._read("existing_passages", {"ns": namespace, "ids": part}):
                out[str(node_id)] = str(status)
        return out

    def _get(
        self, kind: NodeKind, model: type[M], namespace: str, ids: Sequence[str]
    ) -> dict[str, M]:
        out: dict[str, M] = {}
        for part in chunks(ids):
            rows = self._read("get_nodes", {"ns": namespace, "ids": part}, KIND=KIND_LABELS[kind])
            for row in rows:
                out[str(row[0])] = R.node_from_row(model, row, namespace)
        return out

    def get_passages(self, namespace: str, ids: Sequence[str]) -> dict[str, Passage]:
        return self._get("passage", Passage, namespace, ids)

    def get_entities(self, namespace: str, ids: Sequence[str]) -> dict[str, Entity]:
        return self._get("entity", Entity, namespace, ids)

    def get_facts(self, namespace: str, ids: Sequence[str]) -> dict[str, Fact]:
        return self._get("fact", Fact, namespace, ids)

    def get_events(self, namespace: str, ids: Sequence[str]) -> dict[str, Event]:
        return self._get("event", Event, namespace, ids)

    def get_hyperedges(self, namespace: str, ids: Sequence[str]) -> dict[str, Hyperedge]:
        return self._get("hyperedge", Hyperedge, namespace, ids)

    def get_episodes(self, namespace: str, ids: Sequence[str]) -> dict[str, Episode]:
        return self._get("episode", Episode, namespace, ids)

    def failed_passages(self, namespace: str, limit: int = 1000) -> list[Passage]:
        """Passages whose extraction failed, oldest first."""
        rows = self._read("failed_passages", {"ns": namespace, "limit": int(limit)})
        return [R.node_from_row(Passage, row, namespace) for row in rows]

    def list_ids(
        self, namespace: str, kind: NodeKind, *, after: str | None = None, limit: int = 1000
    ) -> list[str]:
        """One page of ``kind``'s ids in ``namespace``, ascending, after ``after`` (facts are
        their ``Fact`` nodes, not their ``RELATES`` relationships; stubs have no kind)."""
        check_list_ids(kind, after, limit)
        # ">= start, minus exclude" rather than "> after": one statement for both cases that
        # keeps the range on the id index (an "$after IS NULL OR ..." would not).
        start, exclude = ("", []) if after is None else (after, [after])
        params = {"ns": namespace, "kind": kind, "start": start, "exclude": exclude}
        return [str(r[0]) for r in self._read("list_ids", {**params, "limit": limit})]

    def facts_of_passages(self, namespace: str, passage_ids: Sequence[str]) -> dict[str, list[str]]:
        """passage id -> ids of the facts it STATES (passages stating none are left out)."""
        out: dict[str, list[str]] = {}
        for part in chunks(passage_ids):
            for pid, fid in self._read("facts_of_passages", {"ns": namespace, "ids": part}):
                out.setdefault(str(pid), []).append(str(fid))
        return out

    def facts_between(
        self, namespace: str, entity_ids: Sequence[str], *, as_of: datetime | None = None
    ) -> list[Fact]:
        """Facts whose subject or object is one of ``entity_ids``.

        With ``as_of``, only facts valid then: ``valid_at`` unset or not after it, and
        ``invalid_at`` unset or after it (naive datetimes are taken as UTC).
        """
        found: dict[str, Fact] = {}
        for part in chunks(entity_ids):
            for (data,) in self._read("facts_between", {"ns": namespace, "ids": part}):
                fact = Fact.model_validate_json(data)
                found[fact.id] = fact
        facts = list(found.values())
        if as_of is None:
            return facts
        t = utc(as_of)
        return [
            f
            for f in facts
            if (f.valid_at is None or utc(f.valid_at) <= t)
            and (f.invalid_at is None or utc(f.invalid_at) > t)
        ]

    def edges_of(
        self, namespace: str, node_ids: Sequence[str], types: Sequence[str] | None = None
    ) -> list[Edge]:
        """Stored edges touching these nodes (either end), optionally only of ``types``."""
        wanted = None if types is None else set(types)
        found: dict[tuple[str, str, str], Edge] = {}
        for part in chunks(node_ids):
            for etype, src, dst, weight, props in self._read(
                "edges_of", {"ns": namespace, "ids": part}
            ):
                if wanted is not None and etype not in wanted:
                    continue
                value = json.loads(props) if props else {}
                found[(str(etype), str(src), str(dst))] = Edge.model_validate(
                    {
                        "type": etype,
                        "src": src,
                        "dst": dst,
                        "namespace": namespace,
                        "weight": float(weight) if weight is not None else 1.0,
                        "props": value if isinstance(value, dict) else {},
                    }
                )
        return list(found.values())

    def vector_search(
        self, namespace: str, kind: NodeKind, queries: Vector, k: int
    ) -> list[list[tuple[str, float]]]:
        """For each query row, the ``k`` nodes of ``kind`` nearest by cosine: (id, score), best first.

        The server's vector index covers every namespace, so it is asked for more neighbours
        than ``k`` and the others' are dropped; a query short of ``k`` asks again, wider.
        """
        if kind not in KIND_LABELS:
            raise ConfigError(f"unknown node kind {kind!r}: use one of {sorted(KIND_LABELS)}")
        q = np.asarray(queries, dtype=np.float32)
        if q.ndim == 1:
            q = q[None, :]
        results: list[list[tuple[str, float]]] = [[] for _ in range(q.shape[0])]
        if k <= 0 or q.shape[0] == 0:
            return results
        model = self._namespace_model(namespace)
        dim = None if model is None else self._model_dims().get(model)
        if dim is None:
            return results
        if q.shape[1] != dim:
            raise ConfigError(
                f"query vectors have dim {q.shape[1]}, but namespace {namespace!r} holds "
                f"embeddings of dim {dim}"
            )
        pending = list(range(q.shape[0]))
        fetch = 2 * k + 20
        label = KIND_LABELS[kind]
        dialect = self._open()
        while pending and fetch <= MAX_FETCH:
            raw = dialect.vector_query(label, [q[i].tolist() for i in pending], fetch)
            short = []
            for i, hits in zip(pending, raw, strict=True):
                mine = [(node_id, score) for ns, node_id, score in hits if ns == namespace]
                if len(mine) >= k or len(hits) < fetch:
                    mine.sort(key=lambda t: -t[1])
                    results[i] = mine[:k]
                else:
                    short.append(i)
            pending, fetch = short, fetch * 4
        if pending:
            # The namespace is too small a share of the index for its global top k to reach:
            # scan the namespace instead (exact).
            scanned = dialect.vector_scan(namespace, label, [q[i].tolist() for i in pending], k)
            for i, exact in zip(pending, scanned, strict=True):
                results[i] = exact
        return results

    # -- graph --------------------------------------------------------------------------------
    def graph(self, namespace: str) -> CypherGraphView:
        """A view of the namespace's PageRank graph that fetches neighbourhoods on demand.

        The same view is returned until a delete, so what it fetched stays cached; writes
        through this store refresh the parts they touch.
        """
        with self._lock:
            self._open()
            view = self._views.get(namespace)
            if view is None:
                view = CypherGraphView(self, namespace)
                self._views[namespace] = view
            return view

    def text_search(
        self, namespace: str, query: str, k: int, kind: TextKind = "passage"
    ) -> list[tuple[str, float]]:
        """The ``k`` passages (or episodes) of ``namespace`` best matching ``query`` in the
        server's full-text index (Lucene BM25 on Neo4j, RediSearch TF-IDF on FalkorDB): (id,
        score), best first."""
        check_text_query(query, k)
        text_table(kind)  # refuses another kind
        terms = query_terms(query)
        if not terms or k == 0:
            return []
        return self._open().text_query(namespace, terms, k, TEXT_LABELS[kind])

    def adjacent(self, namespace: str, ids: Sequence[str]) -> Mapping[str, list[tuple[str, float]]]:
        """PageRank-graph neighbours of each id, with edge weights, in one round trip ([] if none)."""
        out: dict[str, list[tuple[str, float]]] = {i: [] for i in ids}
        for part in chunks(ids, 50_000):
            for nid, other, weight in self._open().adjacency(namespace, part, PPR_WEIGHTS):
                out[nid].append((other, weight))
        return out

    def degrees(self, namespace: str, ids: Sequence[str]) -> dict[str, float]:
        """Relationship count of each id, in one round trip, without fetching the neighbours:
        an upper bound of the PageRank degree while weights are at most 1 (0 for unknown ids)."""
        return R.counts_by_id(self._open().degrees, namespace, ids)

    def out_degrees(self, namespace: str, ids: Sequence[str]) -> dict[str, float] | None:
        """Outgoing relationship count of each id, a lower bound of :meth:`degrees`, where the
        backend reads it for less (FalkorDB); ``None`` where the full count is as cheap (Neo4j
        reads both from its degree store)."""
        probe = getattr(self._open(), "out_degrees", None)
        return None if probe is None else R.counts_by_id(probe, namespace, ids)

    def graph_nodes(self, namespace: str) -> list[str]:
        """Ids of the namespace's PageRank-graph nodes (every node except facts and stubs)."""
        out: list[str] = []
        for page in self._open().graph_nodes(namespace, list(GRAPH_KINDS)):
            out.extend(page)
        return out

    def graph_edges(self, namespace: str) -> list[tuple[str, str, float]]:
        """Every PageRank edge of the namespace (one entry per stored edge or current fact)."""
        out: list[tuple[str, str, float]] = []
        for page in self._open().graph_edges(namespace, PPR_WEIGHTS):
            out.extend(page)
        return out

    # -- bookkeeping --------------------------------------------------------------------------
    def stats(self, namespace: str) -> Stats:
        counts = {kind: 0 for kind in NODE_KINDS}
        failed = 0
        for kind, n, n_failed in self._read("count_nodes", {"ns": namespace}):
            if kind in counts:
                counts[kind] = int(n)
            failed += int(n_failed or 0)
        ((edges,),) = self._read("count_edges", {"ns": namespace})
        return Stats(
            namespace=namespace,
            **count_fields(counts),
            edges=int(edges),
            failed_passages=failed,
        )

    def namespaces(self) -> list[str]:
        """Namespaces written to (and not deleted), sorted."""
        return sorted(str(r[0]) for r in self._read("list_namespaces", {}))
