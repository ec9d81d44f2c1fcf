"""Lifecycle states of nodes: what a node's own fields say, merged with what a store records.

A store records lifecycle events (:meth:`graphmem.store.base.Store.record_lifecycle`) and each
node's latest recorded state. Two steps need no record, since the node itself holds them: it was
stored at its ``created_at`` (an episode: its ``time``), and a fact whose ``expired_at`` is set
was superseded then, by a newer fact (:mod:`graphmem.ingest.temporal` ends facts so). A node
with no recorded state is in the state its fields give (:func:`base_state`).

>>> from datetime import UTC, datetime
>>> from graphmem.models import Fact
>>> f = Fact(id="f:1", subject="e:a", predicate="lives in", object="e:b", text="a lives in b",
...          created_at=datetime(2024, 1, 1, tzinfo=UTC), expired_at=datetime(2024, 6, 1, tzinfo=UTC))
>>> base_state(f), state_of(f, None), state_of(f, "archived")
('superseded', 'superseded', 'archived')
>>> [e.event for e in derived_events("fact", f)]
['stored', 'superseded']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from graphmem.models import (
    LIFECYCLE_STATES,
    Episode,
    Fact,
    LifecycleEvent,
    LifecycleState,
)
from graphmem.validity import utc

__all__ = [
    "base_state",
    "check_state",
    "derived_events",
    "event_from_row",
    "event_row",
    "history",
    "state_of",
]


def base_state(node: BaseModel) -> LifecycleState:
    """The state a node's own fields give: "superseded" for a fact a newer one ended, else
    "active" (what a restore returns a node to)."""
    if isinstance(node, Fact) and node.expired_at is not None:
        return "superseded"
    return "active"


def state_of(node: BaseModel, recorded: str | None) -> LifecycleState:
    """A node's current state: the recorded one if any, else :func:`base_state`."""
    return check_state(recorded) if recorded is not None else base_state(node)


def check_state(value: str) -> LifecycleState:
    """``value`` as a :data:`~graphmem.models.LifecycleState` (ValueError for another word)."""
    if value not in LIFECYCLE_STATES:
        raise ValueError(f"unknown lifecycle state {value!r}: use one of {LIFECYCLE_STATES}")
    return value


def _created(node: BaseModel) -> datetime | None:
    if isinstance(node, Episode):
        return node.time
    value = getattr(node, "created_at", None)
    return value if isinstance(value, datetime) else None


def derived_events(kind: str, node: BaseModel) -> list[LifecycleEvent]:
    """The steps a node's fields record: stored, and for an ended fact, superseded."""
    node_id = str(getattr(node, "id", ""))
    out: list[LifecycleEvent] = []
    created = _created(node)
    if created is not None:
        out.append(
            LifecycleEvent(
                node_id=node_id,
                kind=kind,
                event="stored",
                state="active",
                at=utc(created),
                actor="ingest",
                recorded=False,
            )
        )
    if isinstance(node, Fact) and node.expired_at is not None:
        data: dict[str, Any] = {}
        if node.invalid_at is not None:
            data["invalid_at"] = utc(node.invalid_at).isoformat()
        reason = "a newer fact filled the same slot"
        if node.superseded_by is not None:
            data["superseded_by"] = node.superseded_by
            reason += f" ({node.superseded_by})"
        if node.slot is not None:
            data["slot"] = node.slot
        out.append(
            LifecycleEvent(
                node_id=node_id,
                kind=kind,
                event="superseded",
                state="superseded",
                at=utc(node.expired_at),
                reason=reason,
                actor="temporal",
                data=data,
                recorded=False,
            )
        )
    return out


def history(
    kind: str, node: BaseModel | None, recorded: Iterable[LifecycleEvent]
) -> list[LifecycleEvent]:
    """The derived steps, then the recorded ones in the order recorded. Not sorted by ``at``:
    a fact from an episode is stored at ingest (the wall clock) but superseded at the newer
    episode's time, so the two clocks would put its end before its start. ``node`` None: a
    deleted node, whose recorded steps remain."""
    steps = derived_events(kind, node) if node is not None else []
    steps.extend(recorded)
    return steps


def event_row(event: LifecycleEvent) -> dict[str, Any]:
    """The columns a store keeps for ``event`` (``at`` as UTC ISO text, ``data`` as JSON)."""
    return {
        "node": event.node_id,
        "kind": event.kind,
        "event": event.event,
        "state": check_state(event.state),
        "at": utc(event.at).isoformat(),
        "reason": event.reason,
        "actor": event.actor,
        "data": json.dumps(event.data, sort_keys=True, ensure_ascii=False),
    }


def event_from_row(row: Sequence[Any]) -> LifecycleEvent:
    """The event of a stored row: (node, kind, event, state, at, reason, actor, data)."""
    node, kind, event, state, at, reason, actor, data = row[:8]
    value = json.loads(data) if data else {}
    return LifecycleEvent(
        node_id=str(node),
        kind=str(kind),
        event=str(event),
        state=check_state(str(state)),
        at=datetime.fromisoformat(str(at)),
        reason=None if reason is None else str(reason),
        actor=None if actor is None else str(actor),
        data=value if isinstance(value, dict) else {},
    )
