"""Holidays named in a question resolve to their last day at or before the asking time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graphmem.retrieve.episode_rank import in_windows, time_windows
from graphmem.timeparse import holidays

ASKED = datetime(2023, 3, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("What was the airline I flew with on Valentine's day?", "2023-02-14"),
        ("my valentines day dinner", "2023-02-14"),
        ("the Valentine’s Day card", "2023-02-14"),  # a typographic apostrophe
        ("What did I cook for Thanksgiving?", "2022-11-24"),  # 4th Thursday of November
        ("Who came over at Christmas?", "2022-12-25"),
        ("the Christmas Eve party", "2022-12-24"),
        ("on New Year's Eve", "2022-12-31"),
        ("on the Fourth of July", "2022-07-04"),
        ("on Easter Sunday", "2022-04-17"),  # Easter 2023 (9 April) is after the question
        ("on Good Friday", "2022-04-15"),
        ("for Mother's Day", "2022-05-08"),  # 2nd Sunday of May
        ("on Memorial Day", "2022-05-30"),  # last Monday of May
        ("after Black Friday", "2022-11-25"),
    ],
)
def test_a_named_holiday_is_its_last_day_before_the_question(text: str, day: str) -> None:
    ((_, at),) = holidays(text, ASKED)
    assert at.date().isoformat() == day
    assert at.tzinfo is not None and at <= ASKED


def test_a_holiday_today_counts_and_words_inside_others_do_not() -> None:
    on_the_day = datetime(2023, 12, 25, 18, 0, tzinfo=UTC)
    assert [d.date().isoformat() for _, d in holidays("my Christmas gifts", on_the_day)] == [
        "2023-12-25"
    ]
    assert holidays("the halloweenish mood of eastern towns", ASKED) == []
    assert holidays("nothing festive here", ASKED) == []


def test_a_holiday_becomes_a_window_around_its_day() -> None:
    (window,) = time_windows("Which airline did I fly on Valentine's day?", ASKED)
    assert in_windows(datetime(2023, 2, 14, 20, 47, tzinfo=UTC), [window])
    assert not in_windows(datetime(2023, 2, 20, 18, 0, tzinfo=UTC), [window])
    assert window[1] <= ASKED
