"""Export one namespace of a store as JSON Lines: every node, then every stored edge.

One JSON object per line, in this order:

- ``{"type": "node", "kind": "passage", "state": "active", "data": {...}}`` for each node, by
  kind (in :data:`~graphmem.store.base.NODE_KINDS` order), then by id; ``state`` is its
  lifecycle state (active, superseded, merged, archived: :mod:`graphmem.store.states`) and
  ``data`` the model's ``model_dump(mode="json")``. Embeddings are not part of a node (stores cache them by text
  hash), so none are written.
- ``{"type": "edge", "edge": {...}}`` for each stored edge (an :class:`~graphmem.models.Edge`),
  once, grouped by source node in the same order as the nodes, then by (type, target). Facts'
  subject/object links are fields of the fact, not stored edges.
- ``{"type": "lifecycle", "event": {...}}`` for each recorded lifecycle event (a
  :class:`~graphmem.models.LifecycleEvent`), last, node by node in node order, each node's in
  the order recorded. The steps a node's own fields give (stored, superseded) are not repeated.

The same data always gives the same bytes. Memory stays bounded by ``batch``: nodes are read a
page of :meth:`~graphmem.store.base.Store.list_ids` at a time, and each edge is written from the
page holding its source node, so no set of seen edges is kept. Edges whose source is no node of
the namespace (an edge may name a node never written) come last, from their target's page: a
second pass, run only when :meth:`~graphmem.store.base.Store.stats` counts more edges than the
first pass wrote. The export is not a snapshot: run it while nothing writes the namespace.

>>> import io, json
>>> from graphmem.models import Entity
>>> from graphmem.store import open_store
>>> from graphmem.store.base import WriteBatch
>>> store = open_store("sqlite:///:memory:")
>>> _ = store.write(WriteBatch("demo", entities=[Entity(id="e:1", name="Ada", normalized="ada",
...                                                 namespace="demo")]))
>>> out = io.StringIO()
>>> export_namespace(store, "demo", out)
{'passage': 0, 'entity': 1, 'fact': 0, 'event': 0, 'hyperedge': 0, 'episode': 0, 'edges': 0, \
'lifecycle': 0}
>>> line = json.loads(out.getvalue())
>>> line["type"], line["kind"], line["data"]["name"]
('node', 'entity', 'Ada')
>>> store.close()
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel

from graphmem.errors import InputError
from graphmem.models import DeleteReport, Edge, add_reports
from graphmem.store.base import MAX_LIST_IDS, NODE_KINDS, NodeKind, Store, id_pages
from graphmem.store.states import state_of

__all__ = ["delete_prefix", "export_as", "export_namespace"]

Getter = Callable[[str, Sequence[str]], Mapping[str, BaseModel]]


def export_namespace(
    store: Store,
    namespace: str,
    out: IO[str] | str | os.PathLike[str],
    *,
    batch: int = 500,
) -> dict[str, int]:
    """Write ``namespace``'s nodes and edges to ``out`` (a text stream, or a file path) as JSON
    Lines; return how many of each were written: one count per node kind, ``"edges"`` and
    ``"lifecycle"`` (recorded events).

    A path is written to a temporary file beside it and renamed over it at the end, so a failed
    export leaves no partial file. ``batch`` (1 to 10000) is how many ids are read per call.

    An edge whose two ends are both missing from the namespace (an edge written to nodes that
    were never written) touches no listed node and is not exported, so ``"edges"`` can then be
    less than :meth:`Store.stats`' count.
    """
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_LIST_IDS:
        raise InputError(f"must be an int from 1 to {MAX_LIST_IDS}, got {batch!r}", field="batch")
    if isinstance(out, (str, os.PathLike)):
        return _export_to_path(store, namespace, Path(out), batch)
    return _export(store, namespace, out, batch)


def _export_to_path(store: Store, namespace: str, path: Path, batch: int) -> dict[str, int]:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with open(fd, "w", encoding="utf-8", newline="\n") as f:
            counts = _export(store, namespace, f, batch)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return counts


def _export(store: Store, namespace: str, out: IO[str], batch: int) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(NODE_KINDS, 0)
    # Taken before any edge is read: only if some edge has no listed source node is a second
    # pass, with existence checks, needed (see _orphan_edges).
    stored_edges = store.stats(namespace).edges
    for kind in NODE_KINDS:
        get = _getter(store, kind)
        for page in id_pages(store, namespace, kind, batch):
            nodes = get(namespace, page)
            recorded = store.lifecycle_states(namespace, page)
            for node_id in page:
                node = nodes.get(node_id)  # None: deleted since it was listed
                if node is not None:
                    state = state_of(node, recorded.get(node_id))
                    out.write(_line("node", kind, node.model_dump(mode="json"), state))
                    counts[kind] += 1
    edges = 0
    for kind in NODE_KINDS:
        for page in id_pages(store, namespace, kind, batch):
            mine = set(page)
            edges += _write_edges(
                out, (e for e in store.edges_of(namespace, page) if e.src in mine)
            )
    if edges < stored_edges:
        for kind in NODE_KINDS:
            for page in id_pages(store, namespace, kind, batch):
                edges += _write_edges(out, _orphan_edges(store, namespace, page))
    counts["edges"] = edges
    counts["lifecycle"] = _write_lifecycle(store, namespace, out, batch)
    return counts


def _write_lifecycle(store: Store, namespace: str, out: IO[str], batch: int) -> int:
    """The recorded lifecycle events of the namespace's nodes, node by node in node order."""
    n = 0
    for kind in NODE_KINDS:
        for page in id_pages(store, namespace, kind, batch):
            history = store.lifecycle_events(namespace, page)
            for node_id in page:
                for event in history.get(node_id, ()):
                    body = event.model_dump(mode="json", exclude={"recorded"})
                    head = {"type": "lifecycle", "event": body}
                    out.write(json.dumps(head, ensure_ascii=False, separators=(",", ":")) + "\n")
                    n += 1
    return n


def _getter(store: Store, kind: NodeKind) -> Getter:
    getters: dict[NodeKind, Getter] = {
        "passage": store.get_passages,
        "entity": store.get_entities,
        "fact": store.get_facts,
        "event": store.get_events,
        "hyperedge": store.get_hyperedges,
        "episode": store.get_episodes,
    }
    return getters[kind]


def _orphan_edges(store: Store, namespace: str, page: list[str]) -> list[Edge]:
    """Edges into ``page`` whose source is no node of the namespace (no source page wrote them)."""
    mine = set(page)
    inbound = [e for e in store.edges_of(namespace, page) if e.dst in mine and e.src not in mine]
    if not inbound:
        return []
    missing = sorted({e.src for e in inbound})
    passages = store.existing_passages(namespace, missing)
    missing = [i for i in missing if i not in passages]
    for kind in NODE_KINDS[1:]:
        if not missing:
            break
        found = _getter(store, kind)(namespace, missing)
        missing = [i for i in missing if i not in found]
    orphans = set(missing)
    return [e for e in inbound if e.src in orphans]


def _write_edges(out: IO[str], edges: Iterable[Edge]) -> int:
    n = 0
    for edge in sorted(edges, key=lambda e: (e.src, e.type, e.dst)):
        out.write(_line("edge", None, edge.model_dump(mode="json")))
        n += 1
    return n


def _line(type_: str, kind: str | None, body: dict[str, Any], state: str | None = None) -> str:
    head: dict[str, Any] = {"type": type_}
    if kind is None:
        head["edge"] = body
    else:
        head.update(kind=kind, state=state, data=body)
    return json.dumps(head, ensure_ascii=False, separators=(",", ":")) + "\n"


def export_as(
    store: Store, namespace: str, out: Path | IO[str] | IO[bytes], format: str = "jsonl"
) -> dict[str, int]:
    """:meth:`graphmem.Memory.export`: ``"jsonl"`` (:func:`export_namespace`) or ``"graphml"``
    (the networkx graph of :mod:`graphmem.store.networkx_graph`)."""
    from graphmem.store.networkx_graph import to_networkx, write_graphml

    if format == "graphml":
        return write_graphml(to_networkx(store, namespace), out)  # type: ignore[arg-type]
    if format != "jsonl":
        raise InputError(f"unknown export format {format!r}: use jsonl or graphml")
    return export_namespace(store, namespace, out)  # type: ignore[arg-type]


def delete_prefix(store: Store, namespace: str, prefix: str) -> DeleteReport:
    """:meth:`graphmem.Memory.delete_prefix`: every source starting with ``prefix``, one at a time."""
    if not prefix:
        raise InputError("an empty prefix would delete every source: use delete_namespace")
    total = DeleteReport()
    for source in store.sources(namespace, prefix):
        total = add_reports(total, store.delete_source(namespace, source))
    return total
