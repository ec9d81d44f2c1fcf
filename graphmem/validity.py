"""When a fact holds: validity checks shared by the stores, ingest and retrieval. Pure functions.

Every fact has a world clock (``valid_at``/``invalid_at``) and a memory clock
(``created_at``/``expired_at``); see :class:`graphmem.models.Fact`. Naive datetimes are UTC.

>>> from datetime import datetime
>>> f = Fact(id="f:1", subject="e:a", predicate="lives in", object="e:b", text="A lives in B",
...          valid_at=datetime(2020, 1, 1), invalid_at=datetime(2022, 1, 1))
>>> valid_at(f, datetime(2021, 6, 1)), valid_at(f, datetime(2023, 1, 1)), is_current(f)
(True, False, False)

Functional predicates (one value at a time: a subject's home, a company's CEO) are grouped in
classes; :func:`fact_class` names a fact's class and the end that anchors its timeline. Ingest ends
superseded facts by it (:mod:`graphmem.ingest.temporal`), retrieval reads changing facts by it.

>>> predicate_class("Works for")
('employer', 'subject')
>>> predicate_class("is the CEO of")
('ceo', 'object')
>>> predicate_class("likes") is None
True
>>> fact_class(Fact(id="f:1", subject="e:tom", predicate="became", object="e:ceo",
...                 text="Tom Baker became the CEO of Northwind"))
('role', 'object')
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from graphmem.ids import normalize_predicate
from graphmem.models import Fact

# the predicates over one fact live with the model, so every surface reads them from there
from graphmem.models import is_current as is_current
from graphmem.models import utc as utc
from graphmem.models import valid_at as valid_at


def overlaps(fact: Fact, start: datetime | None, end: datetime | None) -> bool:
    """Did ``fact`` hold at some time within [start, end]? (None: unbounded)"""
    if end is not None and fact.valid_at is not None and utc(fact.valid_at) > utc(end):
        return False
    return not (
        start is not None and fact.invalid_at is not None and utc(fact.invalid_at) <= utc(start)
    )


def current_answer(facts: Sequence[Fact]) -> Fact | None:
    """The newest current fact among ``facts`` (by ``valid_at``), or None."""
    now = [f for f in facts if is_current(f)]
    if not now:
        return None
    earliest = datetime.min.replace(tzinfo=UTC)
    return max(now, key=lambda f: (utc(f.valid_at) if f.valid_at else earliest, f.id))


Anchor = Literal["subject", "object"]


def _classes(table: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, predicates in table.items():
        for p in predicates.split(","):
            out[normalize_predicate(p)] = name
    return out


#: subject -> one object at a time. Class name -> its predicates (normalized when compared).
FUNCTIONAL: dict[str, str] = _classes(
    {
        "residence": "lives in, live in, living in, lived in, resides in, reside in, resided in, "
        "moved to, moves to, relocated to, is living in, is based in, based in",
        "employer": "works at, work at, working at, worked at, works for, work for, working for, "
        "worked for, is employed by, employed by, was employed by, is employed at, employed at, "
        "joined the staff of, is working at, is working for",
        "owner": "owned by, is owned by, was owned by, belongs to, belonged to, acquired by, "
        "was acquired by, is acquired by, bought by, was bought by, sold to, was sold to",
        "partner": "married to, is married to, was married to, married, marries, wed, weds",
        "location": "located in, is located in, headquartered in, is headquartered in",
        "capital": "has capital, has the capital, capital is",
    }
)
#: object -> one subject at a time ("X is CEO of Acme": Acme has one CEO; X may head several).
INVERSE_FUNCTIONAL: dict[str, str] = _classes(
    {
        "ceo": "is ceo of, is the ceo of, ceo of, became ceo of, became the ceo of, "
        "was appointed ceo of, runs, leads, heads",
        "capital": "capital of, is capital of, is the capital of, became the capital of, "
        "became capital of",
    }
)
# "capital" is in both tables on purpose: "France has capital Paris" and "Paris is the capital of
# France" anchor on France and land in one timeline.


#: "X is the CEO of Y" often comes out as (X, "is", "CEO of Y"): a copula and a role as the object.
#: Such a fact is inverse-functional on its object ("CEO of Y" has one holder at a time).
COPULAS = frozenset(
    normalize_predicate(p)
    for p in (
        "is",
        "was",
        "became",
        "is now",
        "has become",
        "was appointed",
        "was named",
        "was elected",
        "is the",
        "became the",
        "remains",
    )
)
ROLES = (
    "ceo of",
    "chief executive of",
    "president of",
    "chairman of",
    "chair of",
    "head of",
    "director of",
    "mayor of",
    "prime minister of",
    "governor of",
    "leader of",
    "owner of",
    "capital of",
    "coach of",
    "manager of",
)


def fact_class(fact: Fact) -> tuple[str, Anchor] | None:
    """Like :func:`predicate_class`, also reading (X, is, "CEO of Y") as a role of "CEO of Y"."""
    found = predicate_class(fact.predicate)
    if found is not None:
        return found
    pred = normalize_predicate(fact.predicate)
    if pred not in COPULAS:
        return None
    marker = f" {fact.predicate} "
    at = fact.text.find(marker)
    if at < 0:
        return None
    obj = normalize_predicate(fact.text[at + len(marker) :])
    obj = obj[4:] if obj.startswith("the ") else obj
    for role in ROLES:
        if obj.startswith(role + " "):
            return "role", "object"
    return None


def is_changing(fact: Fact) -> bool:
    """Does ``fact`` hold one value of something that changes? In a fixed class, or ended (slot
    matching, :mod:`graphmem.ingest.slots`, ends facts of relations no fixed class names)."""
    return fact_class(fact) is not None or fact.invalid_at is not None


def predicate_class(predicate: str) -> tuple[str, Anchor] | None:
    """The functional class of ``predicate`` and which end anchors it, or None."""
    norm = normalize_predicate(predicate)
    if norm in INVERSE_FUNCTIONAL:
        return INVERSE_FUNCTIONAL[norm], "object"
    if norm in FUNCTIONAL:
        return FUNCTIONAL[norm], "subject"
    return None
