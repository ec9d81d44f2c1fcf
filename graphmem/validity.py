"""When a fact holds: validity checks shared by the stores, ingest and retrieval. Pure functions.

Every fact has a world clock (``valid_at``/``invalid_at``) and a memory clock
(``created_at``/``expired_at``); see :class:`graphmem.models.Fact`. Naive datetimes are UTC.

>>> from datetime import datetime
>>> f = Fact(id="f:1", subject="e:a", predicate="lives in", object="e:b", text="A lives in B",
...          valid_at=datetime(2020, 1, 1), invalid_at=datetime(2022, 1, 1))
>>> valid_at(f, datetime(2021, 6, 1)), valid_at(f, datetime(2023, 1, 1)), is_current(f)
(True, False, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from graphmem.models import Fact


def utc(value: datetime) -> datetime:
    """``value`` with UTC attached when it has no time zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def valid_at(fact: Fact, when: datetime) -> bool:
    """Did ``fact`` hold in the world at ``when``? (``valid_at`` <= when < ``invalid_at``)"""
    t = utc(when)
    if fact.valid_at is not None and utc(fact.valid_at) > t:
        return False
    return fact.invalid_at is None or utc(fact.invalid_at) > t


def overlaps(fact: Fact, start: datetime | None, end: datetime | None) -> bool:
    """Did ``fact`` hold at some time within [start, end]? (None: unbounded)"""
    if end is not None and fact.valid_at is not None and utc(fact.valid_at) > utc(end):
        return False
    return not (start is not None and fact.invalid_at is not None
                and utc(fact.invalid_at) <= utc(start))  # fmt: skip


def is_current(fact: Fact) -> bool:
    """Not ended in the world and not superseded in memory."""
    return fact.invalid_at is None and fact.expired_at is None


def current_answer(facts: Sequence[Fact]) -> Fact | None:
    """The newest current fact among ``facts`` (by ``valid_at``), or None."""
    now = [f for f in facts if is_current(f)]
    if not now:
        return None
    earliest = datetime.min.replace(tzinfo=UTC)
    return max(now, key=lambda f: (utc(f.valid_at) if f.valid_at else earliest, f.id))
