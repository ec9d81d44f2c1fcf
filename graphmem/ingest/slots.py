"""Slots: which older fact a newer one replaces, whatever the wording.

A *slot* is something a subject holds one value of at a time: a home, an employer, a role, a
partner, a diet, a relationship status, a favourite colour. Two facts of one subject fill the same
slot when their relations mean the same thing ("moved to", "relocated to", "now lives in") or, for
a copula ("is", "went", "became"), when their values are of one kind ("is vegetarian", "went
vegan"). :mod:`graphmem.ingest.temporal` then ends the older fact at the newer one's time.

How a fact's slot is found, in order:

1. the fixed functional classes of :func:`graphmem.validity.fact_class` ("lives in", "CEO of");
2. "favourite X" in the relation: the slot "favorite X";
3. a copula whose value (or a relation that holds a value word, "is vegetarian for") is in one of
   the seed's value lists (``slots.json``: diets, relationship statuses, occupations);
4. the relation's embedding: the slot of its nearest exemplar in the seed, when that exemplar is a
   slot's (not one of the phrases that fill no slot, such as "visited" or "used to live in") and
   the cosine is at least :data:`THRESHOLD`.

Relations of a wish or a plan ("wants to see") fill no slot at step 4, and the ingest hook
(:class:`graphmem.ingest.temporal.TemporalHook`) asks steps 2-4 only for facts whose subject is a
person (a speaker, a PERSON entity); first-person statements the extractor misses ("I'm
vegetarian") are read by :mod:`graphmem.ingest.statements`.

Step 4's threshold was chosen on labelled relation pairs (``tests/data/lifecycle/slot_pairs.jsonl``,
``benchmarks/slot_pairs.py``): the lowest cosine at which pair precision stays at or above 0.95
with margin. Decisions are cached per relation, since relations repeat.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from graphmem.ids import normalize_predicate
from graphmem.models import Fact
from graphmem.validity import Anchor, fact_class

if TYPE_CHECKING:
    from graphmem.embed.base import Embedder

#: Cosine to the nearest seed exemplar at or above which a relation takes that exemplar's slot.
THRESHOLD = 0.7

#: What fills a slot: (slot name, anchor end, the value when it is not the other end's entity).
SlotKey = tuple[str, Anchor, str | None]

_FAVORITE = re.compile(r"\bfavou?rite ([a-z][a-z -]*?)(?: is| are| was|$)")
_TIME_WORDS = frozenset(("for", "in", "since", "at", "on", "from", "after", "last", "this"))
#: A relation's last word when it is one of these: exemplars must end with the same one, or none
#: when it ends with none ("works as" is a role, "works at" an employer, "took" is not "took at").
PREPOSITIONS = frozenset(("as", "at", "by", "for", "in", "to", "with", "from", "of", "on", "into"))
_INTENT = re.compile(
    r"\b(?:wants?|wanted|plans?|planned|planning|hopes?|hoping|would|wish(?:es)?|intends?|"
    r"thinking|considering|dreams?|tries|trying|asks?|asked|going to|might|may|could|should)\b"
)
_ARTICLES = ("a ", "an ", "the ", "fully ", "strictly ", "now ", "totally ", "completely ")


@dataclass(frozen=True)
class SlotSeed:
    """The curated part: exemplar phrase -> slot ("" for none), value word -> slot, copulas."""

    exemplars: dict[str, str]
    values: dict[str, str]
    copulas: frozenset[str]
    spellings: dict[str, str]
    excludes: dict[str, tuple[str, ...]]
    #: slot -> a pattern of the questions that ask for it ("Where does Dana work?": employer)
    questions: dict[str, re.Pattern[str]]


@lru_cache(maxsize=1)
def load_seed() -> SlotSeed:
    """The seed shipped beside this module (``slots.json``), read once on first use."""
    raw = json.loads(resources.files("graphmem.ingest").joinpath("slots.json").read_text("utf-8"))
    exemplars = {normalize_predicate(p): "" for p in raw["none"]}
    for slot, phrases in raw["slots"].items():
        exemplars.update({normalize_predicate(p): slot for p in phrases})
    values = {normalize_predicate(v): s for s, words in raw["values"].items() for v in words}
    copulas = frozenset(normalize_predicate(c) for c in raw["copulas"])
    excludes = {s: tuple(words) for s, words in raw.get("object_excludes", {}).items()}
    questions = {s: re.compile(p, re.IGNORECASE) for s, p in raw.get("questions", {}).items()}
    return SlotSeed(exemplars, values, copulas, dict(raw["spellings"]), excludes, questions)


def question_slots(question: str, seed: SlotSeed | None = None) -> set[str]:
    """The slots ``question`` asks for by its words (empty: it names none).

    >>> sorted(question_slots("Where does Dana currently work?"))
    ['employer']
    """
    seed = seed or load_seed()
    return {s for s, p in seed.questions.items() if p.search(question)}


def _spell(text: str, seed: SlotSeed) -> str:
    return " ".join(seed.spellings.get(w, w) for w in text.split())


def _value(text: str, seed: SlotSeed) -> str | None:
    """The seed value ``text`` names ("a vegetarian", "fully vegan"), or None."""
    t = text
    changed = True
    while changed:
        changed = False
        for a in _ARTICLES:
            if t.startswith(a):
                t, changed = t[len(a) :], True
    for drop in (" now", " again", " these days", " diet"):
        if t.endswith(drop):
            t = t[: -len(drop)]
    return t if t in seed.values else None


def object_text(fact: Fact) -> str:
    """The words after the relation in the fact's text (its object as written), normalized."""
    marker = f" {fact.predicate} "
    at = fact.text.find(marker)
    return normalize_predicate(fact.text[at + len(marker) :]) if at >= 0 else ""


def rule_slot(fact: Fact, seed: SlotSeed | None = None) -> SlotKey | None:
    """Steps 1-3 (no embedding): fixed classes, "favourite X", copula values."""
    seed = seed or load_seed()
    fixed = fact_class(fact)
    if fixed is not None:
        return fixed[0], fixed[1], None
    pred = _spell(normalize_predicate(fact.predicate), seed)
    fav = _FAVORITE.search(pred)
    if fav is not None:
        return f"favorite {fav.group(1).strip()}", "subject", None
    if pred in seed.copulas:
        value = _value(object_text(fact), seed)
        if value is not None:
            return seed.values[value], "subject", value
        return None
    if pred in seed.exemplars:
        return None  # step 4 decides seeded relations ("got married to" is a partner's)
    # a value word inside the relation, then a preposition of time: "is vegetarian for (years)"
    words = pred.split()
    for n in (2, 1):
        for i in range(1, len(words) - n):
            head, value = " ".join(words[:i]), " ".join(words[i : i + n])
            if head in seed.copulas and value in seed.values and words[i + n] in _TIME_WORDS:
                return seed.values[value], "subject", value
    return None


class SlotMatcher:
    """Finds a fact's slot (see the module docstring); relation decisions are cached.

    Thread-safe: ingests may run side by side.
    """

    def __init__(
        self, embedder: Embedder, threshold: float = THRESHOLD, seed: SlotSeed | None = None
    ) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.seed = seed or load_seed()
        self._lock = threading.Lock()
        self._phrases = list(self.seed.exemplars)
        self._labels = [self.seed.exemplars[p] for p in self._phrases]
        self._preps = np.array([_prep(p) for p in self._phrases])
        self._matrix: np.ndarray | None = None
        self._cache: dict[str, tuple[str, float]] = {}

    def _exemplars(self) -> np.ndarray:
        if self._matrix is None:
            self._matrix = self.embedder.embed([phrase_text(p) for p in self._phrases])
        return self._matrix

    def nearest(self, predicates: Iterable[str]) -> dict[str, tuple[str, float]]:
        """Each relation's nearest exemplar's slot ("" for none) and its cosine (1.0 if seeded)."""
        norms = {normalize_predicate(p) for p in predicates}
        with self._lock:
            todo = sorted(p for p in norms if p not in self._cache)
            if todo:
                seeded = [p for p in todo if p in self.seed.exemplars]
                for p in seeded:
                    self._cache[p] = (self.seed.exemplars[p], 1.0)
                rest = [p for p in todo if p not in self.seed.exemplars]
                if rest:
                    sims = self.embedder.embed([phrase_text(p) for p in rest]) @ self._exemplars().T
                    for p, row in zip(rest, sims, strict=True):
                        # only exemplars ending with the same preposition (or none) compete
                        row = np.where(self._preps == _prep(p), row, -1.0)
                        j = int(np.argmax(row))
                        self._cache[p] = (self._labels[j], float(row[j]))
            return {p: self._cache[p] for p in norms}

    def predicate_slot(self, predicate: str) -> str | None:
        """The slot ``predicate`` fills by its meaning alone (step 4), or None."""
        norm = normalize_predicate(predicate)
        slot, sim = self.nearest([norm])[norm]
        return slot if slot and sim >= self.threshold else None

    def prime(self, facts: Sequence[Fact]) -> None:
        """Embed the relations of ``facts`` not yet decided, in one call."""
        self.nearest(f.predicate for f in facts)

    def slot(self, fact: Fact) -> SlotKey | None:
        """The slot ``fact`` fills, or None (its subject may hold many such values)."""
        found = rule_slot(fact, self.seed)
        if found is not None:
            return found
        pred = normalize_predicate(fact.predicate)
        if pred in self.seed.copulas:
            return None  # a copula without a known value: "is tired", "is at home"
        if _INTENT.search(pred):
            return None  # a wish or a plan is no state: "wants to see", "plans to move to"
        name = self.predicate_slot(fact.predicate)
        if not name:
            return None
        written = object_text(fact)
        if any(w in written.split() for w in self.seed.excludes.get(name, ())):
            return None  # "joined a book club" is no employer
        # "works as a nurse" and "is a nurse" are one value of the role, not two
        value = _value(written, self.seed)
        if value is not None and self.seed.values[value] == name:
            return name, "subject", value
        return name, "subject", None

    def candidate(self, fact: Fact, low: float) -> str | None:
        """The slot ``fact``'s relation comes near without reaching the threshold (nearest
        exemplar's cosine in [``low``, threshold)), for a judge to decide; else None."""
        if rule_slot(fact, self.seed) is not None:
            return None
        pred = normalize_predicate(fact.predicate)
        if pred in self.seed.copulas or _INTENT.search(pred):
            return None
        name, sim = self.nearest([pred])[pred]
        return name if name and low <= sim < self.threshold else None


def _prep(phrase: str) -> str:
    last = phrase.rsplit(" ", 1)[-1]
    return last if last in PREPOSITIONS else ""


def phrase_text(predicate: str) -> str:
    """What is embedded for a relation: the relation between two placeholders, which reads as a
    statement (a bare "moved to" embeds worse than "someone moved to somewhere")."""
    return f"someone {predicate} something"


def same_slot(matcher: SlotMatcher, a: Fact, b: Fact) -> bool:
    """Do ``a`` and ``b`` fill one slot (ignoring their subjects)?"""
    sa, sb = matcher.slot(a), matcher.slot(b)
    return sa is not None and sb is not None and sa[:2] == sb[:2]
