"""Facts that change, on ingest: functional predicates, invalidation instead of deletion.

Every fact has two clocks (see :class:`graphmem.models.Fact`): ``valid_at``/``invalid_at``, when it
held in the world, and ``created_at``/``expired_at``, when memory learned it and when memory
learned it no longer held. Nothing here deletes a fact: history stays queryable.

**The rule.** Some predicates are *functional*: a subject has one value at a time (one home, one
employer, one owner, one spouse). Others are *inverse-functional*: an object has one subject at a
time (a company has one CEO, a country one capital). Predicates are grouped in classes
(:data:`graphmem.validity.FUNCTIONAL`, :data:`graphmem.validity.INVERSE_FUNCTIONAL`: "lives in",
"moved to" and "resides in" are one class). Within a class and one anchor entity (the subject,
or the object for inverse classes), the facts form a timeline: each fact holds from its time
until the time of the first *later* fact of the class with a *different* other end, which sets its ``invalid_at`` (world time: the
newer fact's time) and its ``expired_at`` (memory time: now). So:

- a newer "Ada works at Beta" ends "Ada works at Acme" at Beta's time;
- a fact arriving out of order (older than one already stored) is stored already ended;
- restating a fact that still holds changes nothing (its ``valid_at`` moves earlier if needed);
- restating a fact after it ended ("moved back to Boston") stores a new *version* of it: a fact
  with the same text and a new id (:func:`version_id`), so each stretch of time has its own row.

**Slots.** Beyond the fixed classes, :class:`TemporalSettings` ``slots`` (on by default) groups
facts by the slot they fill whatever their wording (:mod:`graphmem.ingest.slots`: "took a job at"
and "works for" are one employer; "is vegetarian" and "went vegan" one diet, the value standing
for the other end). An ended fact's ``superseded_by`` names the first fact of the next value and
its ``slot`` the slot; both stay in every store, and ``as_of`` still finds the ended fact.

A fact's time is the extractor's ``valid_at`` when it gave one, else the time of what stated it
(an episode's time, a document's ``time``). Facts with no time (a document without a time) never
end another fact and are never ended by this rule. The facts of other predicates keep every value
(a person may like many things).

The checks every layer shares (is a fact valid at a time, current, which functional class its
predicate is in) are in :mod:`graphmem.validity`; the ``as_of`` views of the graph in
:mod:`graphmem.retrieve.asof`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from graphmem.ids import (
    EPISODE,
    FACT,
    PASSAGE,
    entity_id,
    is_kind,
    normalize_predicate,
    of_kind,
    text_hash,
)
from graphmem.ingest.judge import Judge, judged_slots
from graphmem.ingest.slots import THRESHOLD, SlotKey, SlotMatcher
from graphmem.ingest.statements import add_statements
from graphmem.models import Edge, Episode, Fact, IngestReport, Passage
from graphmem.store.base import Store, WriteBatch
from graphmem.validity import fact_class, utc

if TYPE_CHECKING:
    from graphmem.embed.base import Embedder


def version_id(fact_id: str, start: datetime) -> str:
    """Id of the version of ``fact_id`` that starts at ``start`` (a restated, ended fact)."""
    return FACT + text_hash(f"{fact_id}@{utc(start).isoformat()}")


# --------------------------------------------------------------------------- invalidation


@dataclass
class _Assertion:
    """One statement of a fact at a time, by a source (None: the fact's own ``valid_at``)."""

    time: datetime
    fact: Fact
    family: str
    other: str
    source: str | None = None
    edge: Edge | None = None


@dataclass
class _Version:
    family: str
    other: str
    start: datetime
    end: datetime | None = None
    successor: _Version | None = None
    fact: Fact | None = None
    stored: Fact | None = None
    extra: list[Fact] = field(default_factory=list)


@dataclass(frozen=True)
class TemporalSettings:
    """``enabled``: apply the functional rule on ingest (as a batch hook). ``slots``: also end
    facts that fill the same slot in other words (:mod:`graphmem.ingest.slots`), matching
    relations by embedding at ``slot_threshold``; off, only the fixed classes of
    :mod:`graphmem.validity` end facts."""

    enabled: bool = True
    slots: bool = True
    slot_threshold: float = THRESHOLD
    #: with a judge (an LLM extractor): relations whose nearest slot exemplar is at this cosine
    #: or more (below ``slot_threshold``) are candidate conflicts it decides, at most
    #: ``max_judgments`` per batch (:mod:`graphmem.ingest.judge`)
    judge_low: float = 0.5
    max_judgments: int = 16


#: How a fact's slot is found: the fixed classes, or a :class:`SlotMatcher`'s ``slot``.
Classifier = Callable[[Fact], SlotKey | None]


def fixed_slot(fact: Fact) -> SlotKey | None:
    """The slot of ``fact`` by :func:`graphmem.validity.fact_class` alone."""
    found = fact_class(fact)
    return None if found is None else (found[0], found[1], None)


@dataclass(frozen=True)
class TemporalHook:
    """The batch hook that applies the functional rule (see the module docstring).

    >>> TemporalHook().settings.enabled
    True
    """

    settings: TemporalSettings = field(default_factory=TemporalSettings)
    #: decides candidate conflicts (:mod:`graphmem.ingest.judge`); None: offline slots only
    judge: Judge | None = None
    _matchers: dict[str, SlotMatcher] = field(default_factory=dict, compare=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def matcher(self, embedder: Embedder) -> SlotMatcher:
        """One matcher per embedding model, kept: its relation decisions are cached."""
        with self._lock:
            found = self._matchers.get(embedder.name)
            if found is None:
                found = SlotMatcher(embedder, self.settings.slot_threshold)
                self._matchers[embedder.name] = found
            return found

    def __call__(
        self, store: Store, embedder: Embedder, batch: WriteBatch, report: IngestReport
    ) -> None:
        if not self.settings.enabled:
            return
        if self.settings.slots and batch.episodes:
            add_statements(store, embedder, batch)
        if batch.facts:
            classify: Classifier = fixed_slot
            if self.settings.slots:
                matcher = self.matcher(embedder)
                people = _people(store, batch)
                matcher.prime([f for f in batch.facts if f.subject in people])

                def offline(f: Fact) -> SlotKey | None:
                    # beyond the fixed classes, slots are a person's: "Chicago is with plenty of
                    # cafes" or "the novel serves as a commentary" fill none
                    return fixed_slot(f) or (matcher.slot(f) if f.subject in people else None)

                judged: dict[str, SlotKey] = {}
                if self.judge is not None and self.settings.max_judgments > 0:
                    judged = judged_slots(
                        store, batch, matcher, people, offline, self.judge,
                        low=self.settings.judge_low, limit=self.settings.max_judgments,
                    )  # fmt: skip

                def classify(f: Fact) -> SlotKey | None:
                    return judged.get(f.id) or offline(f)

            apply_functional_rule(store, batch, classify=classify)


def _people(store: Store, batch: WriteBatch) -> set[str]:
    """Subjects of ``batch``'s facts that are persons: its episodes' speakers (whatever type the
    extractor gave their names: "Felix" may come out ORG) and PERSON entities."""
    subjects = {f.subject for f in batch.facts}
    speakers = {entity_id(batch.namespace, e.speaker) for e in batch.episodes if e.speaker}
    types = {e.id: e.type for e in batch.entities if e.id in subjects}
    rest = sorted(subjects - set(types))
    if rest:
        types.update({i: e.type for i, e in store.get_entities(batch.namespace, rest).items()})
    return {i for i, t in types.items() if t == "PERSON"} | (subjects & speakers)


_PROVENANCE = ("STATES", "EVIDENCE")


def apply_functional_rule(
    store: Store,
    batch: WriteBatch,
    now: datetime | None = None,
    classify: Classifier = fixed_slot,
) -> int:
    """Set the validity of ``batch``'s facts and of the stored facts they end; returns facts ended.

    Each touched timeline (class, anchor) is rebuilt from every statement of it: the batch's and
    the stored facts' (their ``valid_at`` and the times of the episodes and passages that state
    them), in time order, so the result does not depend on the order statements arrived in.
    Rewrites ``batch.facts`` (adding the stored facts that change and new versions) and points
    provenance edges at the version each source's time falls in. ``classify`` names each fact's
    slot (:func:`fixed_slot`, or a :class:`~graphmem.ingest.slots.SlotMatcher`'s); an ended fact's
    ``superseded_by`` names the first version of its slot's next value.
    """
    now = now or datetime.now(UTC)
    ns = batch.namespace
    when = _node_times(batch.episodes, batch.passages)
    new: dict[tuple[str, str], list[_Assertion]] = {}
    keep: dict[str, Fact] = {}
    by_fact: dict[str, list[Edge]] = {}
    for edge in batch.edges:
        if edge.type in _PROVENANCE and is_kind(edge.dst, FACT):
            by_fact.setdefault(edge.dst, []).append(edge)
    stored_rows = store.get_facts(ns, [f.id for f in batch.facts])
    for f in batch.facts:
        stored = stored_rows.get(f.id)
        # the extractor said when it held (a valid_at the stored row does not have)
        told = (
            utc(f.valid_at)
            if f.valid_at is not None and (stored is None or stored.valid_at != f.valid_at)
            else None
        )
        sources = [(e, told or when.get(e.src)) for e in by_fact.get(f.id, [])]
        times = sorted({t for _, t in sources if t is not None})
        if told is not None and not sources:
            times = [told]
        cls = classify(f)
        if cls is not None:
            f.slot = cls[0]
        if cls is None or not times:
            if times:
                old = stored.valid_at if stored is not None else None
                f.valid_at = times[0] if old is None or times[0] < utc(old) else old
            keep[f.id] = f
            continue
        key, other = _key(f, cls)
        group = new.setdefault(key, [])
        group.extend(
            _Assertion(t, f, _family(f), other, e.src, e) for e, t in sources if t is not None
        )
        if told is not None and not sources:
            group.append(_Assertion(told, f, _family(f), other))
    if not new:
        return 0
    stored_groups = _stored_groups(store, ns, new, classify)
    prov = _provenance(store, ns, [f.id for fs in stored_groups.values() for f in fs])
    ended = 0
    redirects: list[Edge] = []
    for key, fresh in new.items():
        assertions = list(fresh)
        for f in stored_groups.get(key, []):
            _, other = _key(f, classify(f))  # type: ignore[arg-type]
            start = utc(f.valid_at)  # type: ignore[arg-type]
            assertions.append(_Assertion(start, f, _family(f), other))
            for e, t in prov.get(f.id, []):
                if t >= start:
                    assertions.append(_Assertion(t, f, _family(f), other, e.src, e))
        versions, placed = _timeline(assertions)
        _assign_ids(versions, stored_groups.get(key, []))
        for v in versions:
            for fact in [v.fact, *v.extra]:
                assert fact is not None
                fact.slot = key[0]
                stored = v.stored if fact is v.fact else fact
                before = stored_rows.get(fact.id) or (stored if stored is not None else None)
                if _settle(fact, v, before, now) or before is None:
                    keep[fact.id] = fact
                    if fact.invalid_at is not None and (
                        before is None or before.invalid_at is None
                    ):
                        ended += 1
                elif fact.id in {a.fact.id for a in fresh}:
                    keep[fact.id] = fact
        for a, v in placed:
            assert v.fact is not None
            if a.edge is None or a.edge.dst == v.fact.id:
                continue
            if a.fact.id in {x.fact.id for x in fresh} and a.edge in by_fact.get(a.fact.id, []):
                a.edge.dst = v.fact.id  # this batch's edge: point it at its version
            else:
                redirects.append(a.edge.model_copy(update={"dst": v.fact.id}))
    batch.facts = list(keep.values())
    batch.edges.extend(redirects)
    return ended


def _key(f: Fact, cls: SlotKey) -> tuple[tuple[str, str], str]:
    name, anchor_end, value = cls
    if anchor_end == "subject":
        # a value read from the relation ("is vegetarian for years") stands for the object
        return (name, f.subject), f.object if value is None else f"value:{value}"
    return (name, f.object), f.subject


def _stored_groups(
    store: Store, ns: str, groups: dict[tuple[str, str], list[_Assertion]], classify: Classifier
) -> dict[tuple[str, str], list[Fact]]:
    out: dict[tuple[str, str], list[Fact]] = {}
    for fact in store.facts_between(ns, sorted({a for _, a in groups})):
        cls = classify(fact)
        if cls is None or fact.valid_at is None:
            continue
        key, _ = _key(fact, cls)
        if key in groups:
            out.setdefault(key, []).append(fact)
    return out


def _provenance(
    store: Store, ns: str, fact_ids: list[str]
) -> dict[str, list[tuple[Edge, datetime]]]:
    """Stored fact id -> its provenance edges with the time of their source."""
    if not fact_ids:
        return {}
    wanted = set(fact_ids)
    edges = [e for e in store.edges_of(ns, fact_ids, list(_PROVENANCE)) if e.dst in wanted]
    srcs = sorted({e.src for e in edges})
    times = _node_times(
        store.get_episodes(ns, of_kind(srcs, EPISODE)).values(),
        store.get_passages(ns, of_kind(srcs, PASSAGE)).values(),
    )
    out: dict[str, list[tuple[Edge, datetime]]] = {}
    for e in edges:
        t = times.get(e.src)
        if t is not None:
            out.setdefault(e.dst, []).append((e, t))
    return out


def _node_times(episodes: Iterable[Episode], passages: Iterable[Passage]) -> dict[str, datetime]:
    """Node id -> time, for episodes and timed passages."""
    times: dict[str, datetime] = {e.id: utc(e.time) for e in episodes}
    for p in passages:
        raw = p.metadata.get("time")
        if isinstance(raw, str):
            with contextlib.suppress(ValueError):
                times[p.id] = utc(datetime.fromisoformat(raw))
    return times


def _family(f: Fact) -> str:
    return f"{f.subject}\x1f{normalize_predicate(f.predicate)}\x1f{f.object}"


def _timeline(
    assertions: list[_Assertion],
) -> tuple[list[_Version], list[tuple[_Assertion, _Version]]]:
    """Versions from statements in time order: a state (other end) holds until a different one."""
    ordered = sorted(assertions, key=lambda a: (a.time, a.other, a.family, a.fact.id))
    versions: list[_Version] = []
    placed: list[tuple[_Assertion, _Version]] = []
    run: dict[str, _Version] = {}
    state: str | None = None
    for a in ordered:
        if a.other != state:
            run, state = {}, a.other
        v = run.get(a.family)
        if v is None:
            v = run[a.family] = _Version(family=a.family, other=a.other, start=a.time)
            versions.append(v)
        placed.append((a, v))
    for i, v in enumerate(versions):
        v.successor = next((w for w in versions[i + 1 :] if w.other != v.other), None)
        v.end = None if v.successor is None else v.successor.start
    # a version's sample fact (for text and ids): any statement of it
    for a, v in placed:
        if v.fact is None or (a.fact.id < v.fact.id):
            v.fact = a.fact
    return versions, placed


def _assign_ids(versions: list[_Version], stored: list[Fact]) -> None:
    """Reuse stored rows for the versions their ``valid_at`` falls in; new ids for the rest."""
    used: set[str] = set()
    for f in sorted(stored, key=lambda f: (utc(f.valid_at), f.id)):  # type: ignore[arg-type]
        t = utc(f.valid_at)  # type: ignore[arg-type]
        for v in versions:
            if v.family == _family(f) and v.start <= t and (v.end is None or t < v.end):
                if v.stored is None:
                    v.stored, v.fact = f, f.model_copy()
                else:
                    v.extra.append(f.model_copy())  # a duplicate row: give it the same times
                used.add(f.id)
                break
    for v in sorted(versions, key=lambda v: v.start):
        if v.stored is not None:
            continue
        sample = v.fact
        assert sample is not None
        new_id = sample.id
        while new_id in used:  # a stored row may already hold the first candidate id
            new_id = version_id(new_id, v.start)
        used.add(new_id)
        v.fact = sample.model_copy(update={"id": new_id, "created_at": datetime.now(UTC)})


def _settle(fact: Fact, v: _Version, before: Fact | None, now: datetime) -> bool:
    """Write the version's times into ``fact``; True when they differ from ``before``."""
    fact.valid_at = v.start
    fact.invalid_at = v.end
    next_fact = None if v.successor is None else v.successor.fact
    fact.superseded_by = None if next_fact is None else next_fact.id
    if v.end is None:
        fact.expired_at = None
    elif before is not None and before.expired_at is not None:
        fact.expired_at = before.expired_at
    else:
        fact.expired_at = now
    if before is None:
        return True
    was = (_opt(before.valid_at), _opt(before.invalid_at), _opt(before.expired_at))
    now_ = (_opt(fact.valid_at), _opt(fact.invalid_at), _opt(fact.expired_at))
    return was != now_ or (before.superseded_by, before.slot) != (fact.superseded_by, fact.slot)


def _opt(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)
