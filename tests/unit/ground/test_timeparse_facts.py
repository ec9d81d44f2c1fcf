"""Relative times the resolver reads, the facts they date, and the fact order of a result."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graphmem.extract.base import ExtractedFact, Extraction
from graphmem.models import Fact, FactHit
from graphmem.retrieve.results import order_facts
from graphmem.timeparse import date_facts, resolve_time

BASE = datetime(2024, 6, 15, 10, 0, tzinfo=UTC)  # a Saturday


@pytest.mark.parametrize(
    ("text", "base", "expected"),
    [
        ("last month", BASE, datetime(2024, 5, 15, 10, 0, tzinfo=UTC)),
        ("a couple of days ago", BASE, datetime(2024, 6, 13, 10, 0, tzinfo=UTC)),
        ("a few weeks ago", BASE, datetime(2024, 5, 25, 10, 0, tzinfo=UTC)),
        ("the past week", BASE, datetime(2024, 6, 8, 10, 0, tzinfo=UTC)),
        ("last summer", BASE, datetime(2023, 6, 1, tzinfo=UTC)),  # this one is under way
        ("last summer", datetime(2024, 10, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)),
        ("this winter", datetime(2024, 1, 10, tzinfo=UTC), datetime(2023, 12, 1, tzinfo=UTC)),
        ("next spring", BASE, datetime(2025, 3, 1, tzinfo=UTC)),
        ("last weekend", BASE, datetime(2024, 6, 8, tzinfo=UTC)),
        (
            "this weekend",
            datetime(2024, 6, 16, 9, 0, tzinfo=UTC),
            datetime(2024, 6, 15, tzinfo=UTC),
        ),
    ],
)
def test_relative_times(text: str, base: datetime, expected: datetime) -> None:
    assert resolve_time(text, base) == expected


def _fact(s: str, p: str, o: str, valid_at: str | None = None) -> ExtractedFact:
    return ExtractedFact(subject=s, predicate=p, object=o, valid_at=valid_at)


def test_date_facts_takes_the_time_of_the_fact_s_sentence() -> None:
    ex = Extraction(
        facts=[
            _fact("Ada", "moved to", "Lisbon"),
            _fact("Bo", "lives in", "Rome"),
            _fact("Ada", "works at", "Acme", "2020-01-01"),
        ]
    )
    text = (
        "Ada moved to Lisbon two weeks ago; Bo lives in Rome.\nAda works at Acme since last year."
    )
    dated = date_facts(text, ex)
    assert [f.valid_at for f in dated.facts] == ["two weeks ago", None, "2020-01-01"]
    assert ex.facts[0].valid_at is None  # the extractor's output (the cached one) is unchanged
    assert date_facts("Ada moved to Lisbon.", ex) is ex


def _hit(subject: str, obj: str, *, ended: bool = False) -> FactHit:
    fact = Fact(
        id=f"f:{subject}{obj}",
        namespace="default",
        subject=f"e:{subject}",
        predicate="lives in",
        object=f"e:{obj}",
        text=f"{subject} lives in {obj}",
        invalid_at=datetime(2023, 1, 1, tzinfo=UTC) if ended else None,
    )
    return FactHit(fact=fact, score=1.0, subject_name=subject, object_name=obj)


def test_facts_about_the_named_entity_come_first_current_before_ended() -> None:
    hits = [
        _hit("Ada's sister", "Hamburg"),
        _hit("Ada", "Berlin", ended=True),
        _hit("Bob", "Oslo"),
        _hit("Ada", "Lisbon"),
    ]
    order_facts("Where does Ada live?", hits, now=True)
    assert [h.object_name for h in hits] == ["Lisbon", "Hamburg", "Oslo", "Berlin"]
    order_facts("Where did Ada's sister live?", hits, now=False)
    assert hits[0].object_name == "Hamburg"
    # a name inside a longer one the question says is not named: "Ada" in "Ada's sister"
    assert [h.object_name for h in hits][1:] == ["Lisbon", "Oslo", "Berlin"]
