"""Reads of the SQLite store that return models built from several queries (facts, edges)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from graphmem.models import Edge, Fact
from graphmem.store.sqlite.write import select_in
from graphmem.validity import utc


def facts_between(
    conn: sqlite3.Connection, namespace: str, entity_ids: Sequence[str], as_of: datetime | None
) -> list[Fact]:
    """Facts whose subject or object is one of ``entity_ids`` (valid at ``as_of`` when given)."""
    rows: dict[str, str] = {}
    for end in ("subject", "object"):
        sql = f"SELECT id, data FROM facts WHERE namespace = ? AND {end} IN ({{ids}})"
        rows.update((str(i), str(d)) for i, d in select_in(conn, sql, (namespace,), entity_ids))
    facts = [Fact.model_validate_json(d) for d in rows.values()]
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
    conn: sqlite3.Connection, namespace: str, node_ids: Sequence[str], types: Sequence[str] | None
) -> list[Edge]:
    """Stored edges touching these nodes (either end), optionally only of ``types``."""
    wanted = None if types is None else set(types)
    found: dict[tuple[str, str, str], Edge] = {}
    for end in ("src", "dst"):
        sql = (
            "SELECT type, src, dst, weight, props FROM edges "
            f"WHERE namespace = ? AND {end} IN ({{ids}})"
        )
        for t, s, d, w, p in select_in(conn, sql, (namespace,), node_ids):
            if wanted is None or t in wanted:
                found[(t, s, d)] = Edge.model_validate(
                    {
                        "type": t,
                        "src": s,
                        "dst": d,
                        "namespace": namespace,
                        "weight": w,
                        "props": _props(p),
                    }
                )
    return list(found.values())


def _props(text: str) -> dict[str, object]:
    value = json.loads(text)
    return value if isinstance(value, dict) else {}
