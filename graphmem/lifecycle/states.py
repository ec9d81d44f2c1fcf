"""A node's lifecycle as :meth:`graphmem.Memory.lifecycle` shows it: its state, its strength
(facts and episodes) and its history, the steps its fields record merged with those the store
recorded (see :mod:`graphmem.store.states`)."""

from __future__ import annotations

from datetime import datetime

from graphmem.ids import node_kind
from graphmem.lifecycle.strength import STRENGTH_KINDS, StrengthSettings, weigh
from graphmem.models import Lifecycle
from graphmem.retrieve.results import nodes
from graphmem.store.base import Store
from graphmem.store.states import check_state, history, state_of

__all__ = ["lifecycle_of"]


def lifecycle_of(
    store: Store,
    namespace: str,
    node_id: str,
    settings: StrengthSettings,
    *,
    now: datetime | None = None,
) -> Lifecycle | None:
    """``node_id``'s lifecycle, or None when the store holds neither the node nor any step of it
    (a deleted node keeps its recorded steps, and its last recorded state)."""
    kind = node_kind(node_id)
    node = nodes(store, namespace, [node_id]).get(node_id)
    recorded = store.lifecycle_events(namespace, [node_id]).get(node_id, [])
    if node is None and not recorded:
        return None
    state = store.lifecycle_states(namespace, [node_id]).get(node_id)
    strength = None
    if node is not None and kind in STRENGTH_KINDS:
        weighed = weigh(store, namespace, settings, now=now, ids=[node_id]).get(node_id)
        strength = None if weighed is None else weighed.strength
    return Lifecycle(
        id=node_id,
        kind=kind,
        state=state_of(node, state) if node is not None else check_state(state or "active"),
        strength=strength,
        events=history(kind, node, recorded),
    )
