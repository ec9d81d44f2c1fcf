"""Dates in documents: a section's written date, and a fact's date as its time, not a node.

- :func:`section_time`: a chunk whose section is headed by a written date ("## Update, September
  2024"), or whose body opens with one ("March 2024: ..."), happened then, not at the file's
  front-matter date; the passage's ``time`` (which dates its facts) is that date.
- :func:`fold_dates`: "Henrik Dahl started in Bergen in 2021" gives the parser two facts, "started
  in Bergen" and "started in 2021"; the second is a value fact that would loop on its subject. The
  date becomes the ``valid_at`` of its sibling (same subject and verb, named in the same
  sentence) and the loop goes. A date with no sibling stays a value fact.

>>> from datetime import datetime
>>> section_time("Kelp > Update, September 2024", "Kelp moved.", datetime(2024, 2, 1)).date()
datetime.date(2024, 9, 1)
>>> section_time("Kelp > Plan", "Kelp will run.", datetime(2024, 2, 1)) is None
True
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from graphmem.extract.base import ExtractedFact
from graphmem.ids import normalize_name
from graphmem.timeparse import resolve_time

#: month names from the calendar module, as the question's time windows read them
_MONTH_NAMES = [m.lower() for m in calendar.month_name[1:]]
_MONTH = "|".join(m.capitalize() for m in _MONTH_NAMES)
#: "3 September 2024", "September 3, 2024", "September 2024", "2024-09-03"
_DATE = re.compile(
    rf"\b(?:(?P<day>\d{{1,2}})\s+(?P<month>{_MONTH})|(?P<month2>{_MONTH})(?:\s+(?P<day2>\d{{1,2}}),?)?)"
    r"\s+(?P<year>\d{4})\b|\b(?P<iso>\d{4}-\d{2}-\d{2})\b"
)
#: how far into a body's first line a date may sit to "open" it ("Update, 3 May 2024: ...")
_OPENING = 24
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_DATE_TYPES = frozenset({"DATE", "TIME"})


def _date_in(text: str, base: datetime | None) -> datetime | None:
    m = _DATE.search(text)
    if m is None:
        return None
    if m.group("iso"):
        return resolve_time(m.group("iso"), base)
    month = _MONTH_NAMES.index((m.group("month") or m.group("month2")).lower()) + 1
    day = int(m.group("day") or m.group("day2") or 1)
    try:
        when = datetime(int(m.group("year")), month, day)
    except ValueError:
        return None
    tz = base.tzinfo if base is not None and base.tzinfo is not None else None
    return when.replace(tzinfo=tz)


def section_time(section: str, body: str, base: datetime | None) -> datetime | None:
    """The date written in the section's last heading, or opening its body; else None."""
    heading = section.rsplit(" > ", 1)[-1] if section else ""
    when = _date_in(heading, base) if heading else None
    if when is None:
        first = body.lstrip().split("\n", 1)[0]
        m = _DATE.search(first)
        if m is not None and m.start() <= _OPENING:
            when = _date_in(first, base)
    return when


def fold_dates(
    facts: Sequence[ExtractedFact], types: Mapping[str, str | None], text: str
) -> list[ExtractedFact]:
    """``facts`` with each date fact folded into its siblings' ``valid_at`` (see the module
    docstring); ``types``: entity types by normalized name, ``text``: the passage's."""
    dated = [f for f in facts if types.get(normalize_name(f.object)) in _DATE_TYPES]
    if not dated:
        return list(facts)
    sentences = [s.lower() for s in _SENTENCE.split(text) if s.strip()]
    out = list(facts)
    for date in dated:
        verb = date.predicate.split()[:1]
        folded = False
        for i, f in enumerate(out):
            if (
                f is date
                or f.valid_at is not None
                or types.get(normalize_name(f.object)) in _DATE_TYPES
                or normalize_name(f.subject) != normalize_name(date.subject)
                or f.predicate.split()[:1] != verb
            ):
                continue
            obj, when = f.object.lower(), date.object.lower()
            if any(obj in s and when in s for s in sentences):
                out[i] = f.model_copy(update={"valid_at": date.object})
                folded = True
        if folded:
            out = [f for f in out if f is not date]
    return out
