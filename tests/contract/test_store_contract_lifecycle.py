"""Lifecycle rows (issue 22) on every store: events append in order, the last event's state is
the node's recorded state, recalls count, a namespace delete removes them, namespaces stay apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from graphmem.models import LifecycleEvent, LifecycleState
from graphmem.store.base import Store, WriteBatch

from support.contract import NS, T0, doc_batch, with_vectors


def _event(
    node: str, event: str, state: LifecycleState, minutes: int, **kw: object
) -> LifecycleEvent:
    return LifecycleEvent(
        node_id=node,
        kind="fact",
        event=event,
        state=state,
        at=T0 + timedelta(minutes=minutes),
        **kw,  # type: ignore[arg-type]
    )


def test_events_round_trip_in_order_and_the_last_state_holds(store: Store, ns: NS) -> None:
    a = ns("a")
    archived = _event(
        "f:1",
        "archived",
        "archived",
        5,
        reason="strength 0.02 < 0.1",
        actor="forget:strength:0.1",
        data={"strength": 0.02, "tags": ["x"]},
    )
    store.record_lifecycle(a, [archived, _event("f:2", "merged", "merged", 1)])
    store.record_lifecycle(a, [_event("f:1", "restored", "active", 2, actor="restore")])

    history = store.lifecycle_events(a, ["f:1", "f:2", "f:none"])
    assert set(history) == {"f:1", "f:2"}
    # the order recorded, not the order of ``at`` (a restore may be dated before an archive)
    assert [e.event for e in history["f:1"]] == ["archived", "restored"]
    got = history["f:1"][0]
    assert got.reason == "strength 0.02 < 0.1"
    assert got.actor == "forget:strength:0.1"
    assert got.data == {"strength": 0.02, "tags": ["x"]}
    assert got.at == T0 + timedelta(minutes=5)
    assert got.kind == "fact" and got.state == "archived" and got.recorded
    assert history["f:2"][0].reason is None

    assert store.lifecycle_states(a, ["f:1", "f:2", "f:none"]) == {"f:1": "active", "f:2": "merged"}
    assert store.ids_in_state(a, "merged") == ["f:2"]
    assert store.ids_in_state(a, "archived") == []


def test_several_events_of_one_node_in_one_call_keep_the_last_state(store: Store, ns: NS) -> None:
    a = ns("a")
    store.record_lifecycle(
        a,
        [
            _event("e:9", "archived", "archived", 1),
            _event("e:9", "restored", "active", 2),
            _event("e:9", "archived", "archived", 3),
        ],
    )
    assert [e.event for e in store.lifecycle_events(a, ["e:9"])["e:9"]] == [
        "archived",
        "restored",
        "archived",
    ]
    assert store.ids_in_state(a, "archived") == ["e:9"]


def test_ids_in_state_is_sorted_and_per_namespace(store: Store, ns: NS) -> None:
    a, b = ns("a"), ns("b")
    store.record_lifecycle(a, [_event(i, "archived", "archived", 0) for i in ("f:3", "f:1", "f:2")])
    store.record_lifecycle(b, [_event("f:1", "merged", "merged", 0)])
    assert store.ids_in_state(a, "archived") == ["f:1", "f:2", "f:3"]
    assert store.ids_in_state(b, "archived") == []
    assert store.lifecycle_states(b, ["f:1", "f:2"]) == {"f:1": "merged"}
    assert [e.event for e in store.lifecycle_events(b, ["f:1"])["f:1"]] == ["merged"]


def test_an_unknown_state_is_refused(store: Store, ns: NS) -> None:
    with pytest.raises(ValueError, match="unknown lifecycle state"):
        store.ids_in_state(ns("a"), "deleted")  # type: ignore[arg-type]


def test_recalls_count_without_setting_a_state(store: Store, ns: NS) -> None:
    a = ns("a")
    t1, t2 = datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)
    store.record_recalls(a, ["f:1", "f:2"], t1)
    store.record_recalls(a, ["f:1"], t2)
    assert store.recalls(a, ["f:1", "f:2", "f:3"]) == {"f:1": (2, t2), "f:2": (1, t1)}
    # a recalled node has no recorded state: its own fields still decide it
    assert store.lifecycle_states(a, ["f:1", "f:2"]) == {}
    store.record_lifecycle(a, [_event("f:1", "archived", "archived", 0)])
    assert store.recalls(a, ["f:1"]) == {"f:1": (2, t2)}
    assert store.lifecycle_states(a, ["f:1"]) == {"f:1": "archived"}


def test_deleting_the_namespace_deletes_its_lifecycle(store: Store, ns: NS) -> None:
    a, b = ns("a"), ns("b")
    store.write(
        with_vectors(doc_batch(a, [("s", "Ada lives in Paris.", [("Ada", "lives in", "Paris")])]))
    )
    store.write(WriteBatch(namespace=b))
    store.record_lifecycle(a, [_event("f:1", "archived", "archived", 0)])
    store.record_lifecycle(b, [_event("f:1", "archived", "archived", 0)])
    store.record_recalls(a, ["f:2"], T0)
    store.delete_namespace(a)
    assert store.ids_in_state(a, "archived") == []
    assert store.lifecycle_events(a, ["f:1"]) == {}
    assert store.recalls(a, ["f:2"]) == {}
    assert store.ids_in_state(b, "archived") == ["f:1"]
