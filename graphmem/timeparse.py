"""Resolving time expressions ("3 May 2021", "yesterday") against a reference time, offline.

>>> from datetime import datetime, timezone
>>> base = datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)
>>> resolve_time("yesterday", base).date().isoformat()
'2023-05-07'
>>> resolve_time("not a date at all", base) is None
True
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any


@functools.lru_cache(maxsize=8192)
def _parse(text: str, base_iso: str) -> datetime | None:
    import dateparser  # slow to import; only needed when text has times

    base = datetime.fromisoformat(base_iso)
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
