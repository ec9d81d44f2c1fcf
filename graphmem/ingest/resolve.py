"""Entity resolution: merge names that normalize alike, resolve short names, link look-alikes.

Exact merging is free: an entity's id is the hash of its normalized name (see
:func:`graphmem.ids.entity_id`), so "The Beatles" and "the beatles!" are one node. Names that
are close but not equal ("J. Lennon" / "John Lennon") are not merged, which would be wrong too
often; they get a weighted ``SYNONYM`` edge instead (HippoRAG: cosine >= 0.8 over the k nearest
neighbours), and PageRank flows along it in proportion to the similarity.

Cost: each new entity is compared with its ``k`` nearest neighbours found by the store's vector
index (exact up to tens of thousands of entities, approximate beyond), plus the other new entities
of its own batch, so the work grows with the batch, not with the square of the graph. Two values
(numbers, dates, quantities: "2024 ~ 2023", "ten engineers ~ five engineers") are never synonyms.

Short names: a mention that is a token subset of one PERSON/ORG name ("Priya" of "Priya
Natarajan", "Tomas" of "Tomás Silva": accents are folded for matching, never for display) is that
entity. A lone first name may also be a nickname prefix of a person's first name ("Alex" of
"Alexandra Reid"); an initial matches a token it starts ("Daniel O." of "Daniel Okoro"). One
candidate: the mention resolves to it; several: the mention keeps its node with a SYNONYM edge to
each, the weight split. Candidates come from the document first, then from the namespace
(:func:`resolve_mentions`). Names are indexed by folded token (:class:`NameIndex`), so a lookup
costs the candidates of the mention's rarest token, never a scan of all names.

>>> import numpy as np
>>> v = np.array([[1, 0], [0.99, 0.14], [0, 1]], dtype=np.float32)
>>> v /= np.linalg.norm(v, axis=1, keepdims=True)
>>> [(a, b) for a, b, _ in within_batch_synonyms(["x", "y", "z"], v, threshold=0.8, k=5)]
[('x', 'y')]
>>> ix = NameIndex()
>>> ix.add("Priya Natarajan", "PERSON"); ix.add("Tomás Silva", "PERSON")
>>> ix.candidates("Priya"), ix.candidates("Tomas"), ix.candidates("Lisbon")
(['Priya Natarajan'], ['Tomás Silva'], [])
>>> looks_like_value("ten engineers"), looks_like_value("3 November 2023"), looks_like_value("Heron")
(True, True, False)
"""

from __future__ import annotations

import bisect
import logging
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from graphmem._threads import single_blas_thread
from graphmem.extract.base import Extraction
from graphmem.ids import normalize_name
from graphmem.ingest.merges import settle_merges
from graphmem.models import Edge, Passage
from graphmem.store.base import Store, Vector

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class ResolverSettings:
    """``threshold``: minimum cosine for a synonym edge; ``k``: neighbours considered per entity;
    ``skip_types``: entity types that never get synonym edges (a conversation's sessions are
    distinct by construction, however alike their names embed; values are not names)."""

    threshold: float = 0.8
    k: int = 10
    skip_types: frozenset[str] = frozenset({"SESSION"}) | VALUE_TYPES


def within_batch_synonyms(
    ids: Sequence[str], vectors: Vector, *, threshold: float, k: int
) -> list[tuple[str, str, float]]:
    """Pairs (a, b, cosine) among one batch's new entities, each pair once, a < b in batch order."""
    if len(ids) < 2:
        return []
    with single_blas_thread():
        sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1.0)
    out: list[tuple[str, str, float]] = []
    kk = min(k, len(ids) - 1)
    top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
    for i, row in enumerate(top):
        for j in row:
            score = float(sims[i, j])
            if score >= threshold and i < j:
                out.append((ids[i], ids[int(j)], score))
    return out


def synonym_edges(
    store: Store,
    namespace: str,
    new_ids: Sequence[str],
    new_vectors: Vector,
    settings: ResolverSettings = ResolverSettings(),
    new_types: Mapping[str, str | None] | None = None,
    new_names: Mapping[str, str] | None = None,
) -> list[Edge]:
    """SYNONYM edges from new entities to close existing ones and to each other.

    ``new_types``/``new_names``: the new entities' types and names, so those in
    ``settings.skip_types`` and pairs of two values are left out (existing entities' are looked
    up in the store).
    """
    if not new_ids:
        return []
    pairs: dict[tuple[str, str], float] = {}
    hits = store.vector_search(namespace, "entity", new_vectors, settings.k)
    new_set = set(new_ids)
    for src, row in zip(new_ids, hits, strict=True):
        for dst, score in row:
            if score >= settings.threshold and dst != src and dst not in new_set:
                pairs[(src, dst)] = max(score, pairs.get((src, dst), 0.0))
    for a, b, score in within_batch_synonyms(
        new_ids, new_vectors, threshold=settings.threshold, k=settings.k
    ):
        pairs[(a, b)] = score
    if pairs:
        types = dict(new_types or {})
        names = dict(new_names or {})
        others = sorted({b for _, b in pairs if b not in types or b not in names})
        for i, e in store.get_entities(namespace, others).items():
            types.setdefault(i, e.type)
            names.setdefault(i, e.name)
        pairs = {
            (a, b): s
            for (a, b), s in pairs.items()
            if types.get(a) not in settings.skip_types
            and types.get(b) not in settings.skip_types
            and not (looks_like_value(names.get(a, "")) and looks_like_value(names.get(b, "")))
        }
    return [
        Edge(type="SYNONYM", src=a, dst=b, namespace=namespace, weight=round(s, 6))
        for (a, b), s in pairs.items()
    ]


# -- names ---------------------------------------------------------------------------------


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


@dataclass
class Resolution:
    """What the mentions of one document resolve to: one name, or several weighted links."""

    merges: dict[str, str] = field(default_factory=dict)
    links: dict[str, list[tuple[str, float]]] = field(default_factory=dict)


def resolve_mentions(
    mentions: Mapping[str, str | None], document: NameIndex, namespace: NameIndex | None
) -> Resolution:
    """Resolve one document's ``mentions`` (name → type) against its names, then the namespace's.

    Places and values never resolve here (a place typed so by NER is a person only on evidence
    the extractor sees, such as being the subject of a verb).
    """
    out = Resolution()
    for name, etype in mentions.items():
        if etype in PLACE_TYPES or etype in VALUE_TYPES:
            continue
        found = document.candidates(name)
        if not found and namespace is not None:
            found = namespace.candidates(name)
        if len(found) == 1:
            out.merges[name] = found[0]
        elif found:
            out.links[name] = [(c, round(1.0 / len(found), 6)) for c in found]
    # The document's and the namespace's indexes may keep different spellings of one folded
    # name ("Roman Polański" / "Roman Polanski") and map each to the other: settle on one.
    prefer = namespace.spelling if namespace is not None else None
    out.merges = settle_merges(out.merges, fold, prefer)
    return out


def load_names(store: Store, namespace: str) -> NameIndex:
    """Every full PERSON/ORG name stored in ``namespace``, read page by page."""
    index = NameIndex()
    after: str | None = None
    while True:
        ids = store.list_ids(namespace, "entity", after=after, limit=1000)
        for e in store.get_entities(namespace, ids).values():
            index.add(e.name, e.type)
        if len(ids) < 1000:
            return index
        after = ids[-1]


def resolve_documents(
    index: NameIndex,
    passages: Sequence[Passage],
    extractions: Sequence[Extraction],
    *,
    failed: list[str] | None = None,
) -> dict[str, Resolution]:
    """How each document's mentions resolve, by passage id (passages of one source are one
    document); ``index``, the namespace's names, learns the batch's names first.

    A document whose names cannot be resolved keeps them unresolved, with a warning, and its
    source is appended to ``failed``: one document's names never stop an ingest.
    """
    docs: dict[str, list[int]] = {}
    for i, p in enumerate(passages):
        docs.setdefault(p.source or p.id, []).append(i)
    for ex in extractions:
        index.add_all((e.name, e.type) for e in ex.entities)
    out: dict[str, Resolution] = {}
    for members in docs.values():
        doc_names = NameIndex()
        mentions: dict[str, str | None] = {}
        for i in members:
            ex = extractions[i]
            for e in ex.entities:
                doc_names.add(e.name, e.type)
                mentions.setdefault(e.name.strip(), e.type)
            for f in ex.facts:
                mentions.setdefault(f.subject.strip(), None)
                mentions.setdefault(f.object.strip(), None)
            for ev in ex.events:
                mentions.update({n.strip(): None for n in ev.participants if n not in mentions})
        try:
            resolution = resolve_mentions(mentions, doc_names, index)
        except Exception as exc:  # a bug in one document's names must not stop the ingest
            doc = passages[members[0]].source or passages[members[0]].id
            log.warning("names of %s left unresolved: %s: %s", doc, type(exc).__name__, exc)
            if failed is not None:
                failed.append(doc)
            resolution = Resolution()
        for i in members:
            out[passages[i].id] = resolution
    return out
