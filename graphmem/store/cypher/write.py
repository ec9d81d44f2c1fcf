"""Writing one :class:`~graphmem.store.base.WriteBatch` to a Cypher server: one unit of work.

:class:`BatchWriter` runs every statement of a batch, in dependency order (namespace and model
records, caches, nodes, fact relationships, edges, node embeddings), in row chunks of
:data:`CHUNK`; :func:`check_vectors` refuses, before anything runs, vectors whose dimension the
server's vector indexes cannot hold.

>>> chunks(["a", "b", "a", "c"], 2)
[['a', 'b'], ['c']]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from graphmem.errors import ConfigError, InputError
from graphmem.models import Passage
from graphmem.store.base import NodeKind, WriteBatch
from graphmem.store.cypher import rows as R
from graphmem.store.cypher.dialect import KIND_LABELS, Dialect, Transaction

#: ids per statement for reads by id, and rows per statement for big writes
CHUNK = 5_000


def chunks(items: Sequence[str], size: int = CHUNK) -> list[list[str]]:
    """``items`` without repeats, in lists of at most ``size``."""
    unique = list(dict.fromkeys(items))
    return [unique[i : i + size] for i in range(0, len(unique), size)]


def check_vectors(
    batch: WriteBatch, model_dims: Callable[[], dict[str, int]], display_url: str
) -> int | None:
    """The batch's vector dimension, after checking it fits the store's (raises otherwise).

    ``model_dims``: the dimension of each model the store holds (asked only for a batch with vectors).
    """
    if not batch.vectors or batch.embedding_model is None:
        return None
    dim = int(np.asarray(next(iter(batch.vectors.values()))).size)
    dims = model_dims()
    known = dims.get(batch.embedding_model)
    if known is not None and known != dim:
        raise InputError(
            f"model {batch.embedding_model!r} has vectors of dim {known} in this store; "
            f"the batch has dim {dim}",
            field="vectors",
        )
    others = {d for m, d in dims.items() if m != batch.embedding_model}
    if others and dim not in others:
        raise ConfigError(
            f"{display_url} indexes vectors of dim {sorted(others)[0]}; model "
            f"{batch.embedding_model!r} has dim {dim}. Use another graph (URL path) for it."
        )
    return dim


class BatchWriter:
    """The unit of work that writes one batch: every statement, in dependency order."""

    def __init__(
        self, dialect: Dialect, batch: WriteBatch, model: str | None, dim: int | None
    ) -> None:
        self.dialect = dialect
        self.batch = batch
        self.model = model
        self.dim = dim

    def __call__(self, tx: Transaction) -> None:
        b, d, ns = self.batch, self.dialect, self.batch.namespace
        has_nodes = any(True for _ in b.nodes())
        now = datetime.now(UTC).isoformat()
        tx.write(
            d.statement("upsert_namespace"),
            {"ns": ns, "model": self.model if has_nodes else None, "now": now},
        )
        if b.vectors and b.embedding_model is not None:
            tx.write(d.statement("upsert_model"), {"model": b.embedding_model, "dim": self.dim})
            vec_rows = [
                {
                    "key": key,
                    "vector": np.asarray(vec, dtype=np.float32).astype(np.float64).tolist(),
                }
                for key, vec in b.vectors.items()
            ]
            for part in row_chunks(vec_rows):
                tx.write(d.statement("upsert_vectors"), {"model": b.embedding_model, "rows": part})
        if b.extractions:
            ext_rows = [{"key": k, "value": v} for k, v in b.extractions.items()]
            for part in row_chunks(ext_rows):
                tx.write(d.statement("upsert_extractions"), {"rows": part})
        # Nodes take their embeddings from the cache entries of the namespace's model.
        model = self.model
        self._nodes(tx, "upsert_passages", "passage", R.passage_rows(b.passages), model)
        if b.sources:
            src_rows = [{"id": pid, "source": s} for pid, s in dict.fromkeys(b.sources)]
            for part in row_chunks(src_rows):
                tx.write(d.statement("add_passage_sources"), {"ns": ns, "rows": part})
        self._nodes(tx, "upsert_entities", "entity", R.entity_rows(b.entities), model)
        fact_nodes, fact_rels = R.fact_rows(b.facts)
        self._nodes(tx, "upsert_nodes", "fact", fact_nodes, model)
        self._nodes(tx, "upsert_nodes", "event", R.event_rows(b.events), model)
        self._nodes(tx, "upsert_nodes", "hyperedge", R.hyperedge_rows(b.hyperedges), model)
        self._nodes(tx, "upsert_nodes", "episode", R.episode_rows(b.episodes), model)
        for part in row_chunks(fact_rels):
            tx.write(d.statement("unrelate_facts"), {"ns": ns, "rows": part})
            tx.write(d.statement("relate_facts"), {"ns": ns, "rows": part})
        for etype, edge_rows in sorted(R.edge_rows(b.edges).items()):
            for part in row_chunks(edge_rows):
                tx.write(d.statement("upsert_edges", TYPE=etype), {"ns": ns, "rows": part})
        if b.vectors and model is not None and model == b.embedding_model:
            for key_part in chunks(list(b.vectors)):
                tx.write(
                    d.statement("attach_vectors"), {"ns": ns, "model": model, "keys": key_part}
                )

    def _nodes(
        self,
        tx: Transaction,
        name: str,
        kind: NodeKind,
        rows: list[dict[str, Any]],
        model: str | None,
    ) -> None:
        ns, label = self.batch.namespace, KIND_LABELS[kind]
        stmt = self.dialect.statement(name, KIND=label) if name == "upsert_nodes" else None
        for part in row_chunks(rows):
            # Stubs first take the kind's label, so the MERGE below (on both labels) finds them;
            # MERGE creates new nodes with both labels at once: adding a label later is slow.
            ids = [r["id"] for r in part]
            tx.write(self.dialect.statement("promote_stubs", KIND=label), {"ns": ns, "ids": ids})
            tx.write(stmt or self.dialect.statement(name), {"ns": ns, "model": model, "rows": part})


def row_chunks(rows: list[dict[str, Any]], size: int = CHUNK) -> list[list[dict[str, Any]]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def backfill_passage_text(dialect: Dialect, page: int = CHUNK) -> int:
    """Bring passages of a graph written by an older graphmem up to date: their source becomes
    their list of sources, and their text a property the full-text index covers; returns how
    many texts were filled in."""

    def sources(tx: Transaction) -> None:
        tx.write(dialect.statement("backfill_sources"), {})

    dialect.transaction(sources, what="recording the sources of passages")
    done = 0
    stmt = dialect.statement("passages_without_text")
    while rows := dialect.read(stmt, {"limit": page}):
        filled = [
            {
                "ns": ns,
                "id": nid,
                "text": Passage.model_validate_json(data).text.replace("\x00", " "),
            }
            for ns, nid, data in rows
        ]

        def work(tx: Transaction, filled: list[dict[str, Any]] = filled) -> None:
            tx.write(dialect.statement("set_passage_text"), {"rows": filled})

        dialect.transaction(work, what="adding passage text to the full-text index")
        done += len(filled)
    return done
