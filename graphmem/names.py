"""Names: the index of full PERSON/ORG names that short mentions resolve to, and value detection.

Ground code shared by the extractors (``extract/nlp_*``: typing a mention by the names of its
document) and entity resolution (``ingest/resolve``). A mention that is a token subset of one
PERSON/ORG name ("Priya" of "Priya Natarajan", "Tomas" of "Tomás Silva": accents are folded for
matching, never for display) may be that entity. A lone first name may also be a nickname prefix of
a person's first name ("Alex" of "Alexandra Reid"); an initial matches a token it starts ("Daniel
O." of "Daniel Okoro"). Names are indexed by folded token, so a lookup costs the candidates of the
mention's rarest token, never a scan of all names.

>>> ix = NameIndex()
>>> ix.add("Priya Natarajan", "PERSON"); ix.add("Tomás Silva", "PERSON")
>>> ix.candidates("Priya"), ix.candidates("Tomas"), ix.candidates("Lisbon")
(['Priya Natarajan'], ['Tomás Silva'], [])
>>> looks_like_value("ten engineers"), looks_like_value("3 November 2023"), looks_like_value("Heron")
(True, True, False)
"""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from graphmem.ids import normalize_name

#: types whose full names short mentions resolve to
NAME_TYPES = frozenset({"PERSON", "ORG"})
#: spaCy's labels for places: a mention typed so resolves to a person only on evidence
PLACE_TYPES = frozenset({"GPE", "LOC", "FAC"})
#: spaCy's labels for values: attributes of facts, never entities of the walk
VALUE_TYPES = frozenset({"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"})
_NUMBER_WORDS = frozenset(
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "hundred",
        "hundreds",
        "thousand",
        "thousands",
        "million",
        "millions",
        "billion",
        "dozen",
        "dozens",
    ]
)
_MONTHS = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    ]
)
_TIME_WORDS = frozenset(
    [
        "year",
        "years",
        "month",
        "months",
        "week",
        "weeks",
        "day",
        "days",
        "hour",
        "hours",
        "minute",
        "minutes",
        "second",
        "seconds",
        "century",
        "centuries",
        "decade",
        "decades",
        "am",
        "pm",
        "bc",
        "ad",
        "ce",
        "bce",
        "th",
        "st",
        "nd",
        "rd",
        "s",
        "early",
        "late",
        "mid",
    ]
)
_MIN_NICKNAME = 3
#: lower-case words a full name may hold ("University of Oslo", "Vasco da Gama")
_PARTICLES = frozenset(
    [
        "of",
        "the",
        "and",
        "for",
        "de",
        "da",
        "do",
        "das",
        "dos",
        "di",
        "del",
        "della",
        "van",
        "von",
        "der",
        "den",
        "du",
        "la",
        "le",
    ]
)


def fold(name: str) -> str:
    """:func:`normalize_name` without accents: "Tomás" and "Tomas" fold alike."""
    text = unicodedata.normalize("NFKD", normalize_name(name))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def looks_like_value(name: str) -> bool:
    """A number, date, time or quantity written out ("2017", "ten engineers", "3 November")."""
    tokens = fold(name).split()
    if not tokens:
        return False
    first = tokens[0]
    if any(ch.isdigit() for ch in first) or first in _NUMBER_WORDS:
        return True
    return all(t in _MONTHS or t in _TIME_WORDS or t.isdigit() for t in tokens)


def _is_initial(token: str) -> bool:
    return len(token) == 1 and token.isalpha()


@dataclass
class NameIndex:
    """Full PERSON/ORG names (two tokens or more) by folded token; see the module docstring."""

    _by_token: dict[str, set[str]] = field(default_factory=dict)
    _display: dict[str, str] = field(default_factory=dict)
    _types: dict[str, str] = field(default_factory=dict)
    _person_first: dict[str, set[str]] = field(default_factory=dict)
    _firsts: list[str] = field(default_factory=list)
    _sorted: bool = True

    def __len__(self) -> int:
        return len(self._display)

    def add(self, name: str, etype: str | None) -> None:
        """Index ``name`` if it is a full PERSON/ORG name (the first spelling seen is kept)."""
        if etype not in NAME_TYPES:
            return
        key = fold(name)
        tokens = key.split()
        if len(tokens) < 2 or key in self._display or not _full_name(name, tokens):
            return
        self._display[key] = name.strip()
        self._types[name.strip()] = etype
        for t in set(tokens):
            self._by_token.setdefault(t, set()).add(key)
        if etype == "PERSON":
            if tokens[0] not in self._person_first:
                self._firsts.append(tokens[0])
                self._sorted = False
            self._person_first.setdefault(tokens[0], set()).add(key)

    def spelling(self, name: str) -> str | None:
        """The indexed spelling of the full name ``name`` folds to, if any."""
        return self._display.get(fold(name))

    def type_of(self, name: str) -> str | None:
        """The type of an indexed full name (as :meth:`candidates` returns it)."""
        return self._types.get(name)

    def add_all(self, names: Iterable[tuple[str, str | None]]) -> None:
        for name, etype in names:
            self.add(name, etype)

    def candidates(self, mention: str) -> list[str]:
        """Display names ``mention`` may stand for (sorted); [] for a full name or a common noun."""
        text = mention.strip()
        key = fold(text)
        tokens = key.split()
        words = [t for t in tokens if not _is_initial(t)]
        if not words or not text[:1].isupper() or looks_like_value(text):
            return []
        rarest = min(words, key=lambda t: len(self._by_token.get(t, ())))
        found = {k for k in self._by_token.get(rarest, ()) if _covers(k.split(), tokens)}
        if len(tokens) == 1 and len(key) >= _MIN_NICKNAME:
            found |= self._nicknamed(key)
        if key in found:
            # a full name itself: it resolves only to another spelling ("Tomas Silva")
            shown = self._display[key]
            return [shown] if normalize_name(shown) != normalize_name(text) else []
        return sorted(self._display[k] for k in found)

    def _nicknamed(self, word: str) -> set[str]:
        """Persons whose first name starts with ``word`` ("Alex" → "Alexandra Reid")."""
        if not self._sorted:
            self._firsts.sort()
            self._sorted = True
        out: set[str] = set()
        i = bisect.bisect_left(self._firsts, word)
        while i < len(self._firsts) and self._firsts[i].startswith(word):
            out |= self._person_first[self._firsts[i]]
            i += 1
        return out


def _full_name(name: str, tokens: list[str]) -> bool:
    """A clean full name: no initials, no repeated word, capitalized words ("of" aside)."""
    if looks_like_value(name) or len(set(tokens)) < len(tokens) or any(map(_is_initial, tokens)):
        return False
    if any(ch in name for ch in ",/:;|\n()[]*#"):
        return False  # NER ran over a heading or a list ("Helen / Daniel Weekly")
    words = name.split()
    return all(w[:1].isupper() or w in _PARTICLES for w in words)


def _covers(full: list[str], mention: list[str]) -> bool:
    """Every mention token is a token of ``full`` (an initial: a token it starts), fewer tokens."""
    if len(mention) > len(full):
        return False
    rest = list(full)
    for t in mention:
        match = next((f for f in rest if f == t or (_is_initial(t) and f.startswith(t))), None)
        if match is None:
            return False
        rest.remove(match)
    return True
