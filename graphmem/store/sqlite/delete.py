"""Deleting a source or a namespace from the SQLite file (inside the caller's transaction).

Provenance decides what goes with a source (and with it its cached extractions and the vectors
no stored node uses any more): a fact, event or hyperedge stays while some passage
STATES it or some episode gives EVIDENCE for it; an entity stays while a passage MENTIONS it, an
episode gives EVIDENCE for it, a remaining fact has it as subject or object, or a remaining
hyperedge or event has it as a member or participant. Every edge touching a removed node goes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from graphmem.models import DeleteReport, Event, Hyperedge
from graphmem.store.base import cache_prefix, count_fields
from graphmem.store.sqlite.schema import NODE_TABLES
from graphmem.store.sqlite.write import chunks, marks, select_in

_PROVENANCE = ("STATES", "EVIDENCE")
_KEEPS_ENTITY = ("MENTIONS", "EVIDENCE", "CONNECTS", "INVOLVES")


def _ids(conn: sqlite3.Connection, table: str, ns: str, ids: Iterable[str]) -> set[str]:
    sql = f"SELECT id FROM {table} WHERE namespace = ? AND id IN ({{ids}})"
    return {str(r[0]) for r in select_in(conn, sql, (ns,), ids)}


def _delete_rows(
    conn: sqlite3.Connection,
    table: str,
    ns: str,
    ids: Iterable[str],
    keys: set[str] | None = None,
) -> int:
    """Delete these rows; their embed keys go to ``keys`` (for :func:`purge_caches`)."""
    n = 0
    for part in chunks(sorted(set(ids))):
        rows = conn.execute(
            f"DELETE FROM {table} WHERE namespace = ? AND id IN ({marks(len(part))}) "
            "RETURNING embed_key",
            (ns, *part),
        ).fetchall()
        n += len(rows)
        if keys is not None:
            keys.update(str(r[0]) for r in rows)
    return n


def purge_caches(
    conn: sqlite3.Connection, ns: str, roots: Iterable[str] | None, keys: Iterable[str]
) -> None:
    """Drop the extraction-cache rows of deleted ``roots`` (None: the whole namespace) and the
    vectors of ``keys`` that no stored node of any namespace uses any more."""
    for prefix in [cache_prefix(ns)] if roots is None else [cache_prefix(ns, r) for r in roots]:
        # keys starting with prefix (which ends in \x1f): a range on the primary key
        conn.execute(
            "DELETE FROM extractions WHERE key >= ? AND key < ?", (prefix, prefix[:-1] + "\x20")
        )
    used = " OR ".join(
        f"EXISTS (SELECT 1 FROM {t} WHERE {t}.embed_key = vectors.key)"
        for t in NODE_TABLES.values()
    )
    for part in chunks(sorted(set(keys))):
        conn.execute(
            f"DELETE FROM vectors WHERE key IN ({marks(len(part))}) AND NOT ({used})", part
        )


def _delete_edges_touching(conn: sqlite3.Connection, ns: str, ids: Iterable[str]) -> None:
    for part in chunks(sorted(set(ids))):
        for end in ("src", "dst"):
            conn.execute(
                f"DELETE FROM edges WHERE namespace = ? AND {end} IN ({marks(len(part))})",
                (ns, *part),
            )


def delete_source(conn: sqlite3.Connection, ns: str, source: str) -> DeleteReport:
    """Remove ``source``'s passages and episodes and what only they supported."""
    passages = _drop_source(conn, ns, source)
    episodes = {
        str(r[0])
        for r in conn.execute(
            "SELECT id FROM episodes WHERE namespace = ? AND source = ?", (ns, source)
        )
    }
    return delete_roots(conn, ns, passages, episodes)


def delete_stale(
    conn: sqlite3.Connection, ns: str, source: str, keep: Iterable[str]
) -> DeleteReport:
    """Remove ``source``'s passages not in ``keep`` and what only they supported."""
    kept = set(keep)
    passages = {
        str(r[0])
        for r in conn.execute(
            "SELECT id FROM passages WHERE namespace = ? AND source = ?", (ns, source)
        )
    }
    return delete_roots(conn, ns, passages - kept, set())


def sources(conn: sqlite3.Connection, ns: str, prefix: str) -> list[str]:
    """Distinct sources of ``ns`` starting with ``prefix`` (compared exactly, not as a pattern)."""
    found: set[str] = set()
    for table in ("passages", "episodes"):
        found.update(
            str(r[0])
            for r in conn.execute(
                f"SELECT DISTINCT source FROM {table} WHERE namespace = ? AND source IS NOT NULL "
                "AND substr(source, 1, ?) = ?",
                (ns, len(prefix), prefix),
            )
        )
    return sorted(found)


def delete_roots(
    conn: sqlite3.Connection, ns: str, passages: set[str], episodes: set[str]
) -> DeleteReport:
    """Remove these passages and episodes and what only they supported."""
    if not passages and not episodes:
        return DeleteReport()
    roots = passages | episodes
    stated: set[str] = set()
    touched_entities: set[str] = set()
    for etype, dst in select_in(
        conn, "SELECT type, dst FROM edges WHERE namespace = ? AND src IN ({ids})", (ns,), roots
    ):
        if etype in _PROVENANCE:
            stated.add(dst)
        if etype in ("MENTIONS", "EVIDENCE"):
            touched_entities.add(dst)
    keys: set[str] = set()
    report = DeleteReport(
        passages=_delete_rows(conn, "passages", ns, passages, keys),
        episodes=_delete_rows(conn, "episodes", ns, episodes, keys),
    )
    _delete_edges_touching(conn, ns, roots)

    # Facts, events and hyperedges that no remaining passage or episode states.
    still = {
        str(r[0])
        for r in select_in(
            conn,
            "SELECT dst FROM edges WHERE namespace = ? AND type IN (?, ?) AND dst IN ({ids})",
            (ns, *_PROVENANCE),
            stated,
        )
    }
    orphans = stated - still
    dead_facts: set[str] = set()
    for fid, subject, obj in select_in(
        conn,
        "SELECT id, subject, object FROM facts WHERE namespace = ? AND id IN ({ids})",
        (ns,),
        orphans,
    ):
        dead_facts.add(fid)
        touched_entities.update((subject, obj))
    dead_events: set[str] = set()
    for eid, data in select_in(
        conn, "SELECT id, data FROM events WHERE namespace = ? AND id IN ({ids})", (ns,), orphans
    ):
        dead_events.add(eid)
        touched_entities.update(Event.model_validate_json(data).participants)
    dead_hyper: set[str] = set()
    for hid, data in select_in(
        conn,
        "SELECT id, data FROM hyperedges WHERE namespace = ? AND id IN ({ids})",
        (ns,),
        orphans,
    ):
        dead_hyper.add(hid)
        touched_entities.update(Hyperedge.model_validate_json(data).members)
    for dst in select_in(
        conn,
        "SELECT dst FROM edges WHERE namespace = ? AND type IN ('CONNECTS', 'INVOLVES') "
        "AND src IN ({ids})",
        (ns,),
        dead_events | dead_hyper,
    ):
        touched_entities.add(str(dst[0]))
    report.facts = _delete_rows(conn, "facts", ns, dead_facts, keys)
    report.events = _delete_rows(conn, "events", ns, dead_events, keys)
    report.hyperedges = _delete_rows(conn, "hyperedges", ns, dead_hyper, keys)
    _delete_edges_touching(conn, ns, dead_facts | dead_events | dead_hyper)

    # Entities nothing remaining refers to.
    candidates = _ids(conn, "entities", ns, touched_entities)
    keep = {
        str(r[0])
        for r in select_in(
            conn,
            f"SELECT dst FROM edges WHERE namespace = ? AND type IN ({marks(len(_KEEPS_ENTITY))}) "
            "AND dst IN ({ids})",
            (ns, *_KEEPS_ENTITY),
            candidates,
        )
    }
    for sql in (
        "SELECT subject FROM facts WHERE namespace = ? AND subject IN ({ids})",
        "SELECT object FROM facts WHERE namespace = ? AND object IN ({ids})",
        "SELECT j.value FROM hyperedges h, json_each(h.data, '$.members') j "
        "WHERE h.namespace = ? AND j.value IN ({ids})",
        "SELECT j.value FROM events v, json_each(v.data, '$.participants') j "
        "WHERE v.namespace = ? AND j.value IN ({ids})",
    ):
        keep.update(str(r[0]) for r in select_in(conn, sql, (ns,), candidates - keep))
    dead_entities = candidates - keep
    report.entities = _delete_rows(conn, "entities", ns, dead_entities, keys)
    _delete_edges_touching(conn, ns, dead_entities)
    purge_caches(conn, ns, roots, keys)
    return report


def _drop_source(conn: sqlite3.Connection, ns: str, source: str) -> set[str]:
    """Remove ``source`` from its passages; return those no source is left for (to delete).

    A passage that keeps another source shows the first remaining one as its ``source``.
    """
    supplied = {
        str(r[0])
        for r in conn.execute(
            "SELECT passage_id FROM passage_sources WHERE namespace = ? AND source = ? "
            "UNION SELECT id FROM passages WHERE namespace = ? AND source = ?",
            (ns, source, ns, source),
        )
    }
    if not supplied:
        return set()
    conn.execute("DELETE FROM passage_sources WHERE namespace = ? AND source = ?", (ns, source))
    kept = {
        str(r[0])
        for r in select_in(
            conn,
            "SELECT DISTINCT passage_id FROM passage_sources WHERE namespace = ? "
            "AND passage_id IN ({ids})",
            (ns,),
            supplied,
        )
    }
    first = (
        "(SELECT s.source FROM passage_sources s WHERE s.namespace = passages.namespace "
        "AND s.passage_id = passages.id ORDER BY s.rowid LIMIT 1)"
    )
    for part in chunks(sorted(kept)):
        conn.execute(
            f"UPDATE passages SET source = {first}, data = json_set(data, '$.source', {first}) "
            f"WHERE namespace = ? AND source = ? AND id IN ({marks(len(part))})",
            (ns, source, *part),
        )
    return supplied - kept


def delete_namespace(conn: sqlite3.Connection, ns: str) -> DeleteReport:
    """Remove every node and edge of ``ns``, its cached extractions and the vectors only it used."""
    counts: dict[str, int] = {}
    keys: set[str] = set()
    for kind, table in NODE_TABLES.items():
        rows = conn.execute(
            f"DELETE FROM {table} WHERE namespace = ? RETURNING embed_key", (ns,)
        ).fetchall()
        counts[kind] = len(rows)
        keys.update(str(r[0]) for r in rows)
    purge_caches(conn, ns, None, keys)
    conn.execute("DELETE FROM edges WHERE namespace = ?", (ns,))
    conn.execute("DELETE FROM namespaces WHERE namespace = ?", (ns,))
    conn.execute("DELETE FROM lifecycle_events WHERE namespace = ?", (ns,))
    conn.execute("DELETE FROM lifecycle_states WHERE namespace = ?", (ns,))
    return DeleteReport(
        **count_fields(counts),
    )
