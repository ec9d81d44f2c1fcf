"""The SQLite store's lifecycle rows (migration ``0008_lifecycle``): events and current states.

:class:`LifecycleRows` is the part of :class:`~graphmem.store.sqlite.store.SQLiteStore` that
reads and writes them; what the rows mean is in :mod:`graphmem.store.states`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from graphmem.models import LifecycleEvent, LifecycleState
from graphmem.store.sqlite.connection import SQLiteFile
from graphmem.store.sqlite.write import select_in
from graphmem.store.states import check_state, event_from_row, event_row
from graphmem.validity import utc

_EVENT_COLUMNS = "node_id, kind, event, state, at, reason, actor, data"
_ROW_KEYS = ("node", "kind", "event", "state", "at", "reason", "actor", "data")


class LifecycleRows(SQLiteFile):
    """Lifecycle events and states of an SQLite store (see :class:`~graphmem.store.base.Store`)."""

    def record_lifecycle(self, namespace: str, events: Sequence[LifecycleEvent]) -> None:
        if not events:
            return
        rows = [event_row(e) for e in events]
        with self._transaction(f"recording lifecycle events in namespace {namespace!r}") as conn:
            conn.executemany(
                f"INSERT INTO lifecycle_events (namespace, {_EVENT_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(namespace, *(r[c] for c in _ROW_KEYS)) for r in rows],
            )
            conn.executemany(
                "INSERT INTO lifecycle_states (namespace, node_id, kind, state, since) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (namespace, node_id) DO UPDATE SET "
                "state = excluded.state, since = excluded.since",
                [(namespace, r["node"], r["kind"], r["state"], r["at"]) for r in rows],
            )

    def lifecycle_events(
        self, namespace: str, ids: Sequence[str]
    ) -> dict[str, list[LifecycleEvent]]:
        sql = (
            f"SELECT {_EVENT_COLUMNS} FROM lifecycle_events "
            "WHERE namespace = ? AND node_id IN ({ids}) ORDER BY rowid"
        )
        out: dict[str, list[LifecycleEvent]] = {}
        with self._reading() as conn:
            rows = list(select_in(conn, sql, (namespace,), ids))
        for row in rows:
            event = event_from_row(row)
            out.setdefault(event.node_id, []).append(event)
        return out

    def lifecycle_states(self, namespace: str, ids: Sequence[str]) -> dict[str, LifecycleState]:
        sql = (
            "SELECT node_id, state FROM lifecycle_states "
            "WHERE namespace = ? AND state != '' AND node_id IN ({ids})"
        )
        with self._reading() as conn:
            return {str(i): check_state(str(s)) for i, s in select_in(conn, sql, (namespace,), ids)}

    def ids_in_state(self, namespace: str, state: LifecycleState) -> list[str]:
        check_state(state)
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT node_id FROM lifecycle_states WHERE namespace = ? AND state = ? "
                "ORDER BY node_id",
                (namespace, state),
            ).fetchall()
        return [str(r[0]) for r in rows]

    def record_recalls(self, namespace: str, ids: Sequence[str], at: datetime) -> None:
        if not ids:
            return
        when = utc(at).isoformat()
        with self._transaction(f"counting recalls in namespace {namespace!r}") as conn:
            # A node recalled before any lifecycle step gets a row with no state (''), so the
            # state its own fields give still holds (an ended fact stays superseded).
            conn.executemany(
                "INSERT INTO lifecycle_states (namespace, node_id, kind, state, since, recalls, "
                "last_recalled) VALUES (?, ?, '', '', ?, 1, ?) "
                "ON CONFLICT (namespace, node_id) DO UPDATE SET recalls = recalls + 1, "
                "last_recalled = excluded.last_recalled",
                [(namespace, i, when, when) for i in dict.fromkeys(ids)],
            )

    def recalls(self, namespace: str, ids: Sequence[str]) -> dict[str, tuple[int, datetime]]:
        sql = (
            "SELECT node_id, recalls, last_recalled FROM lifecycle_states "
            "WHERE namespace = ? AND recalls > 0 AND node_id IN ({ids})"
        )
        with self._reading() as conn:
            rows = list(select_in(conn, sql, (namespace,), ids))
        return {str(i): (int(n), datetime.fromisoformat(str(t))) for i, n, t in rows}
