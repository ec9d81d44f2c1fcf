"""A value restated later leads: :func:`graphmem.retrieve.current.newer_first`."""

from __future__ import annotations

from datetime import UTC, datetime

from graphmem.models import Episode
from graphmem.retrieve.current import newer_first

TEXTS = {
    "old": ("2023-03-01", "I need 300 stars to reach the gold level on the Starbucks app."),
    "noise": ("2023-04-01", "Can you suggest a recipe for banana bread?"),
    "new": ("2023-06-01", "Actually I need 120 stars to reach the gold level, not 300."),
    "other": ("2023-06-02", "My sister loves coffee too."),
}
ROWS = {
    k: Episode(id=k, namespace="n", text=t, time=datetime.fromisoformat(d).replace(tzinfo=UTC))
    for k, (d, t) in TEXTS.items()
}
ORDER = ["old", "noise", "new", "other"]


def reorder(question: str, window: int = 10) -> list[str]:
    return newer_first(ORDER, ROWS, question, window, 0.5, datetime(2023, 7, 1, tzinfo=UTC))


def test_the_newer_restatement_takes_the_older_ones_place() -> None:
    out = reorder("How many stars do I need to reach the gold level?")
    assert out == ["new", "noise", "old", "other"]


def test_only_restatements_move_and_the_window_keeps_its_set() -> None:
    out = reorder("How many stars do I need to reach the gold level?", window=2)
    assert out == ORDER  # the newer one is outside the window: nothing to swap with
    out = reorder("How many stars do I need to reach the gold level?", window=3)
    assert set(out[:3]) == set(ORDER[:3]) and out[1] == "noise" and out[3] == "other"


def test_questions_about_others_earlier_states_or_dated_keep_their_order() -> None:
    assert reorder("How many stars does Ana need to reach the gold level?") == ORDER
    assert reorder("How many stars did I initially need to reach the gold level?") == ORDER
    assert reorder("How many stars did I need to reach the gold level in March?") == ORDER
    assert reorder("What is a good banana bread recipe for me?") == ORDER
