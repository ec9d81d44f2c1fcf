"""The episode path's ranking beyond the walk: sessions, time windows, spread. Free functions, no I/O.

Each piece is a *ranking* the episode path fuses by weighted reciprocal rank with its hybrid
first stage (dense + BM25, :func:`graphmem.retrieve.fusion.first_stage`), so none needs its scores
calibrated against another's, and each can be switched off by a weight of 0:

- :func:`session_ranking`: a question is often answered by a *session* (a chat about one topic)
  more than by one turn. A session scores the sum of its best ``top`` turns' first-stage scores,
  and the turns of the best sessions rank first (each session's turns in their own order), so the
  turns around a strong match rise with it.
- :func:`time_windows` / :func:`in_windows`: "last Saturday", "two weeks ago", "in May",
  "on Valentine's day" (:func:`graphmem.timeparse.holidays`), read
  against the question's time (``as_of``), become windows; turns inside one rank first.
- :func:`spread`: count and list questions ("how many ... have I", "list all ...") need every
  session that holds an instance, so the final order takes at most ``cap`` turns of one session
  until every candidate session had its turn.

>>> session_ranking(["a1", "b1", "a2", "c1"], {"a1": "A", "a2": "A", "b1": "B", "c1": "C"}, top=2)
['a1', 'a2', 'b1', 'c1']
>>> spread(["a1", "a2", "a3", "b1"], {"a1": "A", "a2": "A", "a3": "A", "b1": "B"}, cap=2, depth=4)
['a1', 'a2', 'b1', 'a3']
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from graphmem.ids import EPISODE, is_kind
from graphmem.retrieve.fusion import RRF_K
from graphmem.store.graph import GraphView
from graphmem.timeparse import RELATIVE, holidays, resolve_time
from graphmem.validity import utc

Window = tuple[datetime, datetime]

_COUNT = re.compile(
    r"\bhow many\b|\bhow much (?:time|money)\b|\b(?:list|name) (?:all|every|the)\b|\ball the\b"
    r"|\bin total\b|\baltogether\b|\bcombined\b|\bwhich .* (?:have|did) i\b",
    re.IGNORECASE,
)
_NOW = re.compile(
    r"\b(?:now|currently|current|still|these days|at the moment|(?:most )?recent(?:ly)?|latest"
    r"|anymore|any more|nowadays)\b",
    re.IGNORECASE,
)
_PAST = re.compile(
    r"\b(?:did|was|were|had|used to|before|previous(?:ly)?|former(?:ly)?|originally|first|ago"
    r"|last|earlier|back then|\w{3,}ed)\b",
    re.IGNORECASE,
)
#: left out of the BM25 query: a store's full-text query ORs its words, and these (pronouns
#: above all) match most chat turns
_LEX_STOP_WORDS = (
    "a an the of in on at to for with by from and or is are was were be been do does did what "
    "when where who whom whose which why how that this these those it its his her their my "
    "your our has have had not no yes would could should will can may might i me you he she "
    "we they them him us"
)
_LEX_STOP = frozenset(_LEX_STOP_WORDS.split())
_WORDS = re.compile(r"\w+")
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTH = re.compile(
    r"\b(?:in|during|of|since|early|late|mid)[- ](" + "|".join(_MONTHS) + r")\b", re.IGNORECASE
)
#: half-width of the window around a resolved expression, by the unit it names
_HALF = (
    ("day", 1.5),
    ("night", 1.5),
    ("yesterday", 1.5),
    ("today", 1.0),
    ("week", 4.5),
    ("saturday", 1.5),
    ("sunday", 1.5),
    ("monday", 1.5),
    ("tuesday", 1.5),
    ("wednesday", 1.5),
    ("thursday", 1.5),
    ("friday", 1.5),
    ("month", 17.0),
    ("summer", 46.0),
    ("winter", 46.0),
    ("spring", 46.0),
    ("fall", 46.0),
    ("autumn", 46.0),
    ("year", 190.0),
)


def lexical_query(question: str) -> str:
    """The question's words without stop words and pronouns (all of them when none is left).

    >>> lexical_query("What did I buy for my sister?")
    'buy sister'
    """
    words = [w for w in _WORDS.findall(question) if w.casefold() not in _LEX_STOP]
    return " ".join(words) or question


def asks_count(question: str) -> bool:
    """Does the question ask for a count or a list across sessions ("How many ... have I")?"""
    return bool(_COUNT.search(question))


def asks_now(question: str) -> bool:
    """Does the question ask about the present ("now", "currently", "still", "most recent")?"""
    return bool(_NOW.search(question))


def asks_past(question: str) -> bool:
    """Does the question ask about an earlier state ("did", "was", "used to", "moved", "ago")?
    A question with neither this nor :func:`asks_now`'s cues is read as about the present."""
    return bool(_PAST.search(question))


def named_windows(question: str, when: datetime | None) -> list[Window]:
    """The windows a question about an earlier state names (:func:`asks_past`, then
    :func:`time_windows`); none for other questions."""
    return time_windows(question, when) if asks_past(question) else []


def time_windows(question: str, when: datetime | None) -> list[Window]:
    """Windows the question's time expressions name, read against ``when`` (its asking time).

    >>> from datetime import UTC
    >>> w = time_windows("What did I buy two weeks ago?", datetime(2023, 5, 20, tzinfo=UTC))
    >>> [d.date().isoformat() for d in w[0]]
    ['2023-05-01', '2023-05-10']
    >>> time_windows("What did I do in May?", datetime(2023, 3, 2, tzinfo=UTC))[0][0].year
    2022
    >>> w = time_windows("Who called on Valentine's day?", datetime(2023, 3, 2, tzinfo=UTC))
    >>> [d.date().isoformat() for d in w[0]]
    ['2023-02-13', '2023-02-16']
    """
    if when is None:
        return []
    base = utc(when)
    out: list[Window] = []
    for m in RELATIVE.finditer(question):
        expr = m.group(0).lower()
        at = resolve_time(expr, base)
        if at is None:
            continue
        half = next((h for word, h in _HALF if word in expr), 3.0)
        at = utc(at)
        out.append((_shift(at, -half), min(base, _shift(at, half))))
    for m in _MONTH.finditer(question):
        month = _MONTHS[m.group(1).lower()]
        year = base.year if month <= base.month else base.year - 1
        if year < datetime.min.year:
            continue  # "in May" asked in January of year 1: no May before it
        start = base.replace(
            year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0
        )
        out.append((start, _shift(start, calendar.monthrange(year, month)[1])))
    for _, day in holidays(question, base):  # the day, and one on each side (said late or early)
        out.append((_shift(day, -1.0), min(base, _shift(day, 2.0))))
    return out


def _shift(t: datetime, days: float) -> datetime:
    """``t`` moved by ``days``, clamped to the calendar's ends (years 1 and 9999), so a
    question asked at its edge gets a narrower window rather than an OverflowError."""
    try:
        return t + timedelta(days=days)
    except OverflowError:
        edge = datetime.max if days > 0 else datetime.min
        return edge.replace(tzinfo=t.tzinfo)


def in_windows(t: datetime, windows: Sequence[Window]) -> bool:
    """Is ``t`` inside one of ``windows``?"""
    u = utc(t)
    return any(a <= u <= b for a, b in windows)


def session_ranking(
    first: Sequence[str], session_of: Mapping[str, str | None], *, top: int = 3
) -> list[str]:
    """The turns of ``first`` grouped by session, sessions ordered by the summed reciprocal rank
    of their best ``top`` turns in ``first`` (a turn with no session is its own session)."""
    score: dict[str, float] = {}
    seen: dict[str, int] = {}
    for rank, turn in enumerate(first, start=1):
        key = session_of.get(turn) or turn
        if seen.get(key, 0) < top:
            seen[key] = seen.get(key, 0) + 1
            score[key] = score.get(key, 0.0) + 1.0 / (RRF_K + rank)
    order = {s: i for i, s in enumerate(sorted(score, key=lambda s: -score[s]))}
    pos = {t: i for i, t in enumerate(first)}
    return sorted(first, key=lambda t: (order[session_of.get(t) or t], pos[t]))


def spread(
    order: Sequence[str], session_of: Mapping[str, str | None], *, cap: int, depth: int
) -> list[str]:
    """``order`` with at most ``cap`` turns of one session in its first ``depth`` places (the
    ones held back follow, in their order); ``cap`` <= 0 leaves it as it is."""
    if cap <= 0:
        return list(order)
    head: list[str] = []
    rest: list[str] = []
    count: dict[str, int] = {}
    for turn in order:
        key = session_of.get(turn) or turn
        if len(head) < depth and count.get(key, 0) < cap:
            head.append(turn)
            count[key] = count.get(key, 0) + 1
        else:
            rest.append(turn)
    return head + rest


def context_of(graph: GraphView, hits: list[str], steps: int) -> dict[str, list[str]]:
    """For each hit, the episodes up to ``steps`` NEXT links away (ids, sorted)."""
    out: dict[str, list[str]] = {}
    for hit in hits:
        seen = {hit}
        frontier = [hit]
        for _ in range(steps):
            idx = [graph.index_of(x) for x in frontier]
            nxt: list[str] = []
            for nbrs, _ in graph.neighbors([i for i in idx if i is not None]):
                for j in nbrs.tolist():
                    nid = graph.node_id(int(j))
                    if is_kind(nid, EPISODE) and nid not in seen:
                        seen.add(nid)
                        nxt.append(nid)
            frontier = nxt
        out[hit] = sorted(seen - {hit})
    return out
