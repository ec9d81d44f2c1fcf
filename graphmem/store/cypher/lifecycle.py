"""The Cypher store's lifecycle records: ``GmLifecycle`` nodes (the events of a node's history,
ordered by ``stamp`` then ``seq``) and one ``GmState`` node per node with a recorded state (or
recalls), keyed by (namespace, node). What they mean is in :mod:`graphmem.store.states`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from graphmem.models import LifecycleEvent, LifecycleState
from graphmem.store.cypher.dialect import Dialect, Transaction
from graphmem.store.cypher.write import chunks, row_chunks
from graphmem.store.states import check_state, event_from_row, event_row
from graphmem.validity import utc


class CypherLifecycle:
    """Lifecycle events and states of a :class:`~graphmem.store.cypher.store.CypherStore`."""

    def _open(self) -> Dialect:
        raise NotImplementedError

    def _read(
        self, name: str, params: Mapping[str, Any], **templates: str
    ) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def record_lifecycle(self, namespace: str, events: Sequence[LifecycleEvent]) -> None:
        if not events:
            return
        d = self._open()
        rows = [{**event_row(e), "seq": i} for i, e in enumerate(events)]
        # one state row per node, the last event's (a MERGE per repeat would race itself)
        states = list({r["node"]: r for r in rows}.values())
        stamp = time.time_ns()

        def work(tx: Transaction) -> None:
            for part in row_chunks(rows):
                tx.write(
                    d.statement("append_lifecycle"), {"ns": namespace, "stamp": stamp, "rows": part}
                )
            for part in row_chunks(states):
                tx.write(d.statement("set_lifecycle_states"), {"ns": namespace, "rows": part})

        d.transaction(work, what=f"recording lifecycle events in namespace {namespace!r}")

    def lifecycle_events(
        self, namespace: str, ids: Sequence[str]
    ) -> dict[str, list[LifecycleEvent]]:
        out: dict[str, list[LifecycleEvent]] = {}
        for part in chunks(ids):
            for row in self._read("lifecycle_events", {"ns": namespace, "ids": part}):
                event = event_from_row(row)
                out.setdefault(event.node_id, []).append(event)
        return out

    def lifecycle_states(self, namespace: str, ids: Sequence[str]) -> dict[str, LifecycleState]:
        out: dict[str, LifecycleState] = {}
        for part in chunks(ids):
            for node, state in self._read("lifecycle_states", {"ns": namespace, "ids": part}):
                out[str(node)] = check_state(str(state))
        return out

    def ids_in_state(self, namespace: str, state: LifecycleState) -> list[str]:
        rows = self._read("ids_in_state", {"ns": namespace, "state": check_state(state)})
        return [str(r[0]) for r in rows]

    def record_recalls(self, namespace: str, ids: Sequence[str], at: datetime) -> None:
        if not ids:
            return
        d = self._open()
        when = utc(at).isoformat()

        def work(tx: Transaction) -> None:
            for part in chunks(ids):
                tx.write(d.statement("record_recalls"), {"ns": namespace, "ids": part, "at": when})

        d.transaction(work, what=f"counting recalls in namespace {namespace!r}")

    def recalls(self, namespace: str, ids: Sequence[str]) -> dict[str, tuple[int, datetime]]:
        out: dict[str, tuple[int, datetime]] = {}
        for part in chunks(ids):
            for node, n, last in self._read("recalls", {"ns": namespace, "ids": part}):
                out[str(node)] = (int(n), datetime.fromisoformat(str(last)))
        return out
