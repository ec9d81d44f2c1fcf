"""Resolving time expressions ("3 May 2021", "yesterday") against a reference time, offline.

>>> from datetime import datetime, timezone
>>> base = datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)
>>> resolve_time("yesterday", base).date().isoformat()
'2023-05-07'
>>> resolve_time("last month", base).date().isoformat()
'2023-04-08'
>>> resolve_time("last summer", base).date().isoformat(), resolve_time("a few days ago", base).day
('2022-06-01', 5)
>>> resolve_time("not a date at all", base) is None
True

dateparser reads most expressions; the few it does not (seasons, weekends, "a couple of days
ago", "the past week") are rewritten or computed here first. Seasons are the meteorological ones of
the northern hemisphere (spring from 1 March, summer June, autumn September, winter December).
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphmem.extract.base import Extraction

_SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
_SEASON = re.compile(r"^(last|this|next|past) (spring|summer|fall|autumn|winter)$", re.I)
_WEEKEND = re.compile(r"^(last|this|next|past) weekend$", re.I)
_WORDS = [
    (re.compile(r"\b(?:a )?couple of\b", re.I), "2"),
    (re.compile(r"\ba few\b", re.I), "3"),
    (re.compile(r"^(?:the )?past (day|week|month|year)$", re.I), r"1 \1 ago"),
]


def _season(which: str, season: str, base: datetime) -> datetime:
    """The first day of the season meant: last (fully over), this (the one under way or of this
    year), next (the next to begin)."""
    month = _SEASONS[season]
    day = base.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0)
    if month == 12 and base.month <= 2:
        day = day.replace(year=base.year - 1)  # January's winter began last December
    if which in {"last", "past"}:
        while _plus_months(day, 3) > base:
            day = day.replace(year=day.year - 1)
    elif which == "next":
        while day <= base:
            day = day.replace(year=day.year + 1)
    return day


def _plus_months(day: datetime, months: int) -> datetime:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


def _weekend(which: str, base: datetime) -> datetime:
    """The Saturday of that weekend (weeks start on Monday)."""
    saturday = (base - timedelta(days=base.weekday() - 5)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return saturday + timedelta(days={"last": -7, "past": -7, "this": 0, "next": 7}[which])


@functools.lru_cache(maxsize=8192)
def _parse(text: str, base_iso: str) -> datetime | None:
    import dateparser  # slow to import; only needed when text has times

    base = datetime.fromisoformat(base_iso)
    try:
        if m := _SEASON.match(text):
            return _season(m.group(1).lower(), m.group(2).lower(), base)
        if m := _WEEKEND.match(text):
            return _weekend(m.group(1).lower(), base)
    except (OverflowError, ValueError):
        return None  # "next summer" in December 9999 lies past the calendar's end
    for pattern, repl in _WORDS:
        text = pattern.sub(repl, text)
    settings: dict[str, Any] = {
        "RELATIVE_BASE": base.replace(tzinfo=None),
        "PREFER_DATES_FROM": "past",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        parsed = dateparser.parse(text, languages=["en"], settings=settings)
    except (ValueError, OverflowError, TypeError):
        return None
    if parsed is None:
        return None
    return parsed.replace(tzinfo=base.tzinfo or UTC)


def resolve_time(text: str | None, base: datetime | None = None) -> datetime | None:
    """The datetime ``text`` means, relative to ``base`` (default: now, UTC); None if unparseable."""
    if not text or not text.strip() or len(text) > 100:
        return None
    ref = base or datetime.now(UTC)
    if ref.tzinfo is None:
        ref = ref.replace(tzinfo=UTC)
    return _parse(text.strip(), ref.isoformat())


_NUM = r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|a few|a couple of|couple of|\d+)"
_UNIT = r"(?:days?|weeks?|months?|years?)"
_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_SPAN = rf"(?:week|weekend|month|year|night|summer|winter|spring|fall|autumn|{_DAY})"
#: the relative time expressions looked for in episode text
RELATIVE = re.compile(
    rf"\b(?:yesterday|today|tonight|tomorrow|last night|this morning|this afternoon"
    rf"|(?:last|this|next|past) {_SPAN}|{_NUM} {_UNIT} ago|in {_NUM} {_UNIT}"
    rf"|(?:the )?(?:day|week|month|year) before yesterday)\b",
    re.IGNORECASE,
)


def time_expressions(text: str, base: datetime) -> list[list[str]]:
    """``[[expression, ISO time], ...]`` for the relative times in ``text`` that resolve."""
    out: list[list[str]] = []
    for m in RELATIVE.finditer(text):
        when = resolve_time(m.group(0), base)
        if when is not None and [m.group(0), when.isoformat()] not in out:
            out.append([m.group(0), when.isoformat()])
    return out


_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def date_facts(text: str, extraction: Extraction) -> Extraction:
    """``extraction`` with a relative time of ``text`` as the ``valid_at`` of the facts stated in
    its sentence ("Ada moved to Lisbon last month": from a month before the episode).

    A fact is placed in the sentence naming its object (else its subject); facts that already have
    a ``valid_at``, or whose sentence has no relative time, are left alone.

    >>> from graphmem.extract.base import ExtractedFact, Extraction
    >>> ex = Extraction(facts=[ExtractedFact(subject="Ada", predicate="moved to", object="Lisbon"),
    ...                        ExtractedFact(subject="Bo", predicate="lives in", object="Rome")])
    >>> [f.valid_at for f in date_facts("Ada moved to Lisbon last month. Bo lives in Rome.",
    ...                                 ex).facts]
    ['last month', None]
    """
    if not extraction.facts or not RELATIVE.search(text):
        return extraction
    sentences = [s for s in _SENTENCE.split(text) if s.strip()]
    facts = []
    for f in extraction.facts:
        when = None
        if f.valid_at is None:
            for name in (f.object, f.subject):
                said = [s for s in sentences if name.strip() and name.lower() in s.lower()]
                if said:
                    m = RELATIVE.search(said[0])
                    when = m.group(0) if m else None
                    break
        facts.append(f if when is None else f.model_copy(update={"valid_at": when}))
    return extraction.model_copy(update={"facts": facts})
