"""Time expressions read at the calendar's ends (years 1 and 9999) never raise (issue 21 §5).

"last weekend" asked on 0001-01-01 or "next summer" on 9999-12-31 lies outside what ``datetime``
holds: the expression resolves to nothing, and a question's windows are clamped to the calendar.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from graphmem.retrieve.episode_rank import time_windows
from graphmem.timeparse import resolve_time, time_expressions

EXPRESSIONS = [
    "last weekend", "this weekend", "next weekend", "last summer", "next summer",
    "this winter", "next winter", "last spring", "yesterday", "tomorrow", "tonight",
    "last night", "next month", "last year", "next year", "3 days ago", "in 2 years",
    "the day before yesterday", "next monday", "a few years ago",
]  # fmt: skip
QUESTIONS = [f"What did I do {e}?" for e in EXPRESSIONS] + [
    "What did I do in May?",
    "What happened in December?",
    "Since January, what changed?",
]
FIRST = datetime(1, 1, 1, tzinfo=UTC)
LAST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
END = datetime.max.replace(tzinfo=UTC)
near_edges = st.one_of(
    st.integers(0, 400).map(lambda d: FIRST + timedelta(days=d)),
    st.integers(0, 400).map(lambda d: LAST - timedelta(days=d)),
)


def test_the_issue_examples_resolve_to_nothing() -> None:
    assert resolve_time("last weekend", FIRST) is None
    assert resolve_time("next summer", LAST) is None
    assert resolve_time("next summer", datetime(2023, 5, 8, tzinfo=UTC)) == datetime(
        2023, 6, 1, tzinfo=UTC
    )


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(when=near_edges, question=st.sampled_from(QUESTIONS))
def test_windows_at_the_calendar_ends_are_clamped(when: datetime, question: str) -> None:
    for start, end in time_windows(question, when):
        # (a window may be empty: "this weekend" asked on a Monday ends at the asking time)
        assert FIRST <= start <= END and FIRST <= end <= END


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(when=near_edges, expression=st.sampled_from(EXPRESSIONS))
def test_expressions_at_the_calendar_ends_resolve_or_are_none(
    when: datetime, expression: str
) -> None:
    got = resolve_time(expression, when)
    assert got is None or isinstance(got, datetime)
    for _, iso in time_expressions(f"We met {expression}.", when):
        datetime.fromisoformat(iso)
