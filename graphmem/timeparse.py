"""Reading times: ISO 8601 text as every surface takes it (:func:`parse_iso`), and time
expressions ("3 May 2021", "yesterday") resolved against a reference time, offline.

>>> parse_iso("2024-03-01T10:00Z").isoformat(), parse_iso(" ") is None
('2024-03-01T10:00:00+00:00', True)

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
Holidays ("on Valentine's day", "at Thanksgiving") are dated by :func:`holidays`: fixed-date ones,
Easter, and the US holidays on a weekday of a month, each on its last day before the reference.
"""

from __future__ import annotations

import calendar
import functools
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from pydantic_core import TzInfo

from graphmem.errors import InputError

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


def parse_iso(value: str | None, name: str = "time") -> datetime | None:
    """An aware datetime from ISO 8601 text (``Z`` or an offset; UTC when no zone is given);
    ``None`` for no text. The one reading of a time the CLI, MCP, the client and GraphQL take.

    Raises :class:`~graphmem.errors.InputError` (``field=name``) for text that is not a date.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        when = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
    except ValueError:
        raise InputError(
            f"{name}: cannot read {text[:80]!r} as a date; use ISO 8601, "
            "e.g. 2024-03-01 or 2024-03-01T10:00:00Z",
            field=name,
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


_FIXED_ZONES = (TzInfo, timezone)


def standard_utc(value: datetime) -> datetime:
    """``value`` with the standard library's ``UTC`` when its offset is a fixed 0. pydantic reads
    "Z" as its own ``TzInfo``, and comparing times of two ``tzinfo`` objects asks each for its
    offset (~20x slower; a search compares hundreds). The stored models' times pass through here.

    >>> standard_utc(parse_iso("2024-03-01T10:00+00:00")).tzinfo is UTC
    True
    """
    tz = value.tzinfo
    if tz is None or tz is UTC or not isinstance(tz, _FIXED_ZONES) or tz.utcoffset(value):
        return value
    return value.replace(tzinfo=UTC)


def warm() -> None:
    """Load the date parser now: its first use compiles its patterns (about 0.3 s)."""
    resolve_time("two days ago", datetime(2000, 1, 3, tzinfo=UTC))


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


# -- holidays ----------------------------------------------------------------------------------
#: fixed-date holidays people name in chat: (month, day)
_FIXED = {
    "new year's day": (1, 1),
    "valentine's day": (2, 14),
    "st. patrick's day": (3, 17),
    "april fools' day": (4, 1),
    "earth day": (4, 22),
    "cinco de mayo": (5, 5),
    "independence day": (7, 4),
    "the fourth of july": (7, 4),
    "halloween": (10, 31),
    "veterans day": (11, 11),
    "christmas eve": (12, 24),
    "christmas": (12, 25),
    "boxing day": (12, 26),
    "new year's eve": (12, 31),
}
#: US holidays on the n-th (negative: from the end) weekday of a month: (month, weekday, n)
_NTH = {
    "martin luther king day": (1, 0, 3),
    "presidents' day": (2, 0, 3),
    "mother's day": (5, 6, 2),
    "memorial day": (5, 0, -1),
    "father's day": (6, 6, 3),
    "labor day": (9, 0, 1),
    "thanksgiving": (11, 3, 4),
}
_ALIASES = {
    "new years day": "new year's day",
    "new year": "new year's day",
    "valentines day": "valentine's day",
    "valentine's": "valentine's day",
    "st patrick's day": "st. patrick's day",
    "saint patrick's day": "st. patrick's day",
    "april fool's day": "april fools' day",
    "fourth of july": "the fourth of july",
    "july 4th": "the fourth of july",
    "christmas day": "christmas",
    "xmas": "christmas",
    "new years eve": "new year's eve",
    "mothers day": "mother's day",
    "fathers day": "father's day",
    "presidents day": "presidents' day",
    "mlk day": "martin luther king day",
    "thanksgiving day": "thanksgiving",
    "black friday": "black friday",
    "easter sunday": "easter",
    "easter": "easter",
    "good friday": "good friday",
}
_HOLIDAY_NAMES = sorted({*_FIXED, *_NTH, *_ALIASES}, key=len, reverse=True)
#: a name as written without apostrophes -> the holiday it names
_CANON = {n.replace("'", ""): _ALIASES.get(n, n) for n in _HOLIDAY_NAMES}
_HOLIDAY = re.compile(
    r"\b(?:" + "|".join(re.escape(n).replace("'", "['’]?") for n in _HOLIDAY_NAMES) + r")(?!\w)",
    re.IGNORECASE,
)


def _easter(year: int) -> tuple[int, int]:
    """Western Easter Sunday (the anonymous Gregorian computus): (month, day)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return month, day + 1


def _holiday_day(name: str, year: int) -> tuple[int, int]:
    if name in _FIXED:
        return _FIXED[name]
    if name in ("easter", "good friday"):
        month, day = _easter(year)
        if name == "good friday":
            at = datetime(year, month, day) - timedelta(days=2)
            return at.month, at.day
        return month, day
    if name == "black friday":
        month, day = _holiday_day("thanksgiving", year)
        return month, day + 1
    month, weekday, n = _NTH[name]
    days = [
        d
        for d in range(1, 32)
        if d <= calendar.monthrange(year, month)[1]
        and datetime(year, month, d).weekday() == weekday
    ]
    return month, days[n - 1 if n > 0 else n]


def holidays(text: str, base: datetime) -> list[tuple[str, datetime]]:
    """The holidays ``text`` names, each on its last day at or before ``base`` (start of day, in
    ``base``'s zone): "on Valentine's day" asked in March 2023 is 14 February 2023.

    >>> base = datetime(2023, 3, 2, 8, 0, tzinfo=UTC)
    >>> [(n, d.date().isoformat()) for n, d in holidays("My flight on Valentine's day?", base)]
    [("valentine's day", '2023-02-14')]
    >>> [d.date().isoformat() for _, d in holidays("at Thanksgiving and Easter", base)]
    ['2022-11-24', '2022-04-17']
    """
    out: list[tuple[str, datetime]] = []
    for m in _HOLIDAY.finditer(text):
        name = _CANON[m.group(0).lower().replace("’", "").replace("'", "")]
        for year in (base.year, base.year - 1):
            if year < 2:
                break
            month, day = _holiday_day(name, year)
            at = base.replace(year=year, month=month, day=day, hour=0, minute=0, second=0)
            at = at.replace(microsecond=0)
            if at <= base:
                if (name, at) not in out:
                    out.append((name, at))
                break
    return out
