"""The steps a node's own fields give (graphmem.store.states)."""

from __future__ import annotations

from datetime import UTC, datetime

from graphmem.models import Fact
from graphmem.store.states import derived_events


def _fact(superseded_by: str | None = None, slot: str | None = None) -> Fact:
    return Fact(
        id="f:old",
        subject="e:dana",
        predicate="lives in",
        object="e:oslo",
        text="Dana lives in Oslo",
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        expired_at=datetime(2024, 6, 1, tzinfo=UTC),
        superseded_by=superseded_by,
        slot=slot,
    )


def test_a_superseded_fact_names_its_replacement_and_slot() -> None:
    steps = derived_events("fact", _fact(superseded_by="f:new", slot="residence"))
    ended = steps[-1]
    assert ended.event == "superseded" and ended.at == datetime(2024, 6, 1, tzinfo=UTC)
    assert ended.data["superseded_by"] == "f:new" and ended.data["slot"] == "residence"
    assert ended.reason is not None and "f:new" in ended.reason


def test_an_ended_fact_without_a_known_replacement_names_none() -> None:
    ended = derived_events("fact", _fact())[-1]
    assert ended.event == "superseded"
    assert "superseded_by" not in ended.data and "slot" not in ended.data
