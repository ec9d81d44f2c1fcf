"""Turning a :class:`~graphmem.store.base.WriteBatch` into the parameter rows of the write statements.

Every node is stored as its model's JSON (``data``) plus the properties queries filter on (kind,
embedding key, source, status, subject/object, ...). Fields that change after insert are
properties too (a passage's status/error/metadata, an entity's type/aliases) and win over
``data`` when a node is read back (:func:`node_from_row`).

Rows are deduplicated by their MERGE key here, with the same rules as the embedded store (the last
node wins; an entity merges aliases; an edge keeps the larger weight): one statement never MERGEs
one key twice, which FalkorDB does not survive (see :mod:`graphmem.store.cypher.falkordb`).

>>> from graphmem.models import Entity
>>> rows = entity_rows([Entity(id="e:1", name="A", normalized="a", aliases=["x"]),
...                     Entity(id="e:1", name="A", normalized="a", aliases=["y", "x"])])
>>> rows[0]["props"]["aliases"]
['x', 'y']
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import pydantic_core
from pydantic import BaseModel

from graphmem.models import Edge, Entity, Episode, Event, Fact, Hyperedge, Passage
from graphmem.store.base import AnyNode, canonical, embed_key, kind_of
from graphmem.store.graph import EDGE_WEIGHTS

N = TypeVar("N", bound=BaseModel)
Row = dict[str, Any]


def timestamp(value: datetime | None) -> float | None:
    """Seconds since the epoch (naive datetimes taken as UTC), for range filters."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _json(value: Any) -> str:
    return pydantic_core.to_json(value).decode()


def _last_by_id(nodes: Iterable[N]) -> list[N]:
    by_id: dict[str, N] = {}
    for node in nodes:
        by_id[node.id] = node  # type: ignore[attr-defined]
    return list(by_id.values())


def _base(node: AnyNode) -> dict[str, Any]:
    return {"kind": kind_of(node), "embed_key": embed_key(node), "data": node.model_dump_json()}


def passage_rows(passages: Sequence[Passage]) -> list[Row]:
    """Rows of passages: the last one of an id wins, with every source of the id in order
    (the first is the display source of a new passage)."""
    sources: dict[str, list[str]] = {}
    for p in passages:
        known = sources.setdefault(p.id, [])
        if p.source is not None and p.source not in known:
            known.append(p.source)
    rows = []
    for p in _last_by_id(passages):
        first = sources[p.id][0] if sources[p.id] else None
        if p.source != first:
            p = p.model_copy(update={"source": first})
        props = _base(p)
        props.update(
            # For the full-text index only (the text itself is in ``data``): FalkorDB cannot hold
            # a NUL in a property, and to the index it is just a separator.
            text=p.text.replace("\x00", " "),
            source=p.source,
            status=p.status,
            error=p.error,
            metadata=_json(p.metadata),
            created_ts=timestamp(p.created_at),
        )
        rows.append({"id": p.id, "props": props, "sources": sources[p.id]})
    return rows


def merge_entity(old: Entity, new: Entity) -> Entity:
    """``old`` with the aliases (and type, if it had none) that ``new`` adds (the embedded store's rule)."""
    known = {old.name, *old.aliases}
    extra = [a for a in dict.fromkeys(new.aliases) if a not in known]
    if not extra and (old.type is not None or new.type is None):
        return old
    return old.model_copy(update={"aliases": [*old.aliases, *extra], "type": old.type or new.type})


def entity_rows(entities: Sequence[Entity]) -> list[Row]:
    by_id: dict[str, Entity] = {}
    for e in entities:
        prev = by_id.get(e.id)
        by_id[e.id] = e if prev is None else merge_entity(prev, e)
    rows = []
    for e in by_id.values():
        # An entity's fields are all properties (type and aliases change after insert): no JSON.
        props: dict[str, Any] = {"kind": "entity", "embed_key": embed_key(e), "name": e.name}
        props.update(normalized=e.normalized, type=e.type, aliases=list(e.aliases))
        # An existing entity gains these, in order, each once (the embedded store's rule).
        rows.append({"id": e.id, "props": props, "aliases": list(dict.fromkeys(e.aliases))})
    return rows


def fact_rows(facts: Sequence[Fact]) -> tuple[list[Row], list[Row]]:
    """Rows of the Fact nodes and of their RELATES relationships."""
    nodes, rels = [], []
    for f in _last_by_id(facts):
        active = f.invalid_at is None and f.expired_at is None
        props = _base(f)
        props.update(
            subject=f.subject,
            object=f.object,
            predicate=f.predicate,
            active=active,
            valid_ts=timestamp(f.valid_at),
            invalid_ts=timestamp(f.invalid_at),
            # the replacement and the slot as properties too, so a Cypher query can follow the
            # chain of values ((old)-[:superseded_by]->(new) by id) without reading JSON
            superseded_by=f.superseded_by,
            slot=f.slot,
        )
        nodes.append({"id": f.id, "props": props})
        rels.append(
            {
                "id": f.id,
                "subject": f.subject,
                "object": f.object,
                "predicate": f.predicate,
                "active": active,
            }
        )
    return nodes, rels


def event_rows(events: Sequence[Event]) -> list[Row]:
    rows = []
    for v in _last_by_id(events):
        props = _base(v)
        props.update(members=list(v.participants), time_ts=timestamp(v.time))
        rows.append({"id": v.id, "props": props})
    return rows


def hyperedge_rows(hyperedges: Sequence[Hyperedge]) -> list[Row]:
    rows = []
    for h in _last_by_id(hyperedges):
        props = _base(h)
        props.update(members=list(h.members), hyperedge_kind=h.kind)
        rows.append({"id": h.id, "props": props})
    return rows


def episode_rows(episodes: Sequence[Episode]) -> list[Row]:
    rows = []
    for e in _last_by_id(episodes):
        props = _base(e)
        # text: for the full-text index only, as a passage's (the episode itself is in ``data``)
        props.update(
            source=e.source,
            session=e.session,
            time_ts=timestamp(e.time),
            text=e.text.replace("\x00", " "),
        )
        rows.append({"id": e.id, "props": props})
    return rows


def edge_rows(edges: Sequence[Edge]) -> dict[str, list[Row]]:
    """Edge rows by type, unique on (type, src, dst): the larger weight, merged properties."""
    by_key: dict[tuple[str, str, str], Edge] = {}
    for e in map(canonical, edges):
        key = (e.type, e.src, e.dst)
        prev = by_key.get(key)
        if prev is None:
            by_key[key] = e
        else:
            by_key[key] = prev.model_copy(
                update={"weight": max(prev.weight, e.weight), "props": {**prev.props, **e.props}}
            )
    out: dict[str, list[Row]] = {}
    for (etype, src, dst), e in by_key.items():
        props = _json(e.props) if e.props else "{}"
        out.setdefault(etype, []).append(
            {"src": src, "dst": dst, "weight": float(e.weight), "props": props}
        )
    return out


def ppr_touched(nodes: Iterable[AnyNode], facts: Sequence[Fact], edges: Sequence[Edge]) -> set[str]:
    """Ids whose PageRank neighbourhood a batch may change (facts are not graph nodes)."""
    touched = {n.id for n in nodes if not isinstance(n, Fact)}
    for f in facts:
        touched.update((f.subject, f.object))
    for e in edges:
        if e.type in EDGE_WEIGHTS:
            touched.update((e.src, e.dst))
    return touched


def node_from_row(model: type[N], row: Sequence[Any], namespace: str) -> N:
    """A node model from a ``get_nodes`` row: (id, data, status, error, metadata, type, aliases,
    name, normalized); entities are stored as properties only, other nodes as JSON ``data``."""
    node_id, data, status, error, metadata, etype, aliases, name, normalized = row
    if data is None and model is Entity:
        return model.model_validate(
            {
                "id": node_id,
                "namespace": namespace,
                "name": name,
                "normalized": normalized,
                "type": etype,
                "aliases": list(aliases or []),
            }
        )
    node = model.model_validate_json(data)
    if isinstance(node, Passage):
        if status is not None:
            node.status = status
        node.error = error
        if metadata is not None:
            node.metadata = json.loads(metadata)
    elif isinstance(node, Entity):
        node.type = etype
        node.aliases = list(aliases or [])
    return node


def counts_by_id(
    probe: Callable[[str, Sequence[str]], list[tuple[str, float]]],
    namespace: str,
    ids: Sequence[str],
) -> dict[str, float]:
    """A dialect's per-id count over every id, in chunks (0 for ids the server does not hold)."""
    out = dict.fromkeys(ids, 0.0)
    for part in (ids[i : i + 50_000] for i in range(0, len(ids), 50_000)):
        for nid, count in probe(namespace, part):
            out[nid] = count
    return out
