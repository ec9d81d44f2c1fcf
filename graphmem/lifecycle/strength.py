"""Strength of facts and episodes: MemoryBank's forgetting curve (Zhong et al., 2023).

The retention of a memory ``t`` days after it was last reinforced is ``R = exp(-t / S)``, and its
stability ``S`` grows by one unit with each reinforcement, as in MemoryBank. Here:

- ``S = stability_days * (1 + repetitions + recalls + content_weight * facts)``;
- ``repetitions``: of a fact, how many passages and episodes state it beyond the first (its
  STATES and EVIDENCE edges, minus one); of an episode, the most any fact it produced was stated
  elsewhere (a turn whose content comes up again is reinforced with it);
- ``facts``: of an episode, how many facts it states (0 for a fact). Not in MemoryBank, which
  weighs summaries of equal worth: a turn that states nothing ("Haha, nice!") is the first to
  forget. On locomo_dev it halves the evidence turns a forget of the weaker half archives (see
  ``benchmarks/forget_bench.py``);
- ``recalls``: how often it was retrieved, counted only where the memory is set to
  (``StrengthSettings.reinforce_on_recall``; :meth:`Store.record_recalls`);
- ``t``: days from its last reinforcement (an episode's ``time``, a fact's newest evidence: the
  latest episode or passage stating it, else its ``created_at``; or its last recall) to ``now``.

Strength is ``R`` in [0, 1]. Ranking by it compares ``log R = -t / S``, which never underflows
(three years at ``S`` = 30 days is ``R`` = 1e-16; the order of such memories still matters).

>>> round(retention(30.0, 30.0), 4), round(retention(30.0, 60.0), 4)
(0.3679, 0.6065)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from graphmem.ids import EPISODE, FACT, PASSAGE, is_kind
from graphmem.models import Episode, Fact, Passage
from graphmem.store.base import NodeKind, Store, id_pages
from graphmem.validity import utc

__all__ = ["StrengthSettings", "Weighed", "retention", "weigh"]

#: the node kinds that carry a strength
STRENGTH_KINDS: tuple[NodeKind, ...] = ("fact", "episode")
_DAY = 86_400.0


@dataclass(frozen=True)
class StrengthSettings:
    """Parameters of the forgetting curve (see the module docstring).

    ``stability_days``: ``S`` of a memory stated once and never recalled (after that many days
    its retention is 1/e). ``content_weight``: what each fact an episode states adds to its
    stability, in units of ``stability_days``. ``reinforce_on_recall``: each search counts a recall of the facts and
    episodes it returns (one write per search), raising their stability. ``prior_weight``: how
    much strength reorders default search's episodes (0: not at all, the default; see
    :mod:`graphmem.lifecycle.visible`).
    """

    stability_days: float = 30.0
    content_weight: float = 1.0
    reinforce_on_recall: bool = False
    prior_weight: float = 0.0


def retention(days: float, stability_days: float) -> float:
    """``exp(-t / S)``: what is left after ``days`` of a memory of stability ``stability_days``."""
    return math.exp(-max(days, 0.0) / stability_days)


@dataclass(frozen=True)
class Weighed:
    """One fact's or episode's strength, with what it came from."""

    id: str
    kind: NodeKind
    #: ``log R = -t / S`` (orders without underflow)
    log_strength: float
    repetitions: int
    recalls: int
    last_reinforced: datetime
    #: facts it states (episodes)
    facts: int = 0

    @property
    def strength(self) -> float:
        return math.exp(self.log_strength)


def _when(node: Passage | Episode | Fact | None) -> datetime | None:
    if isinstance(node, Episode):
        return utc(node.time)
    if isinstance(node, (Passage, Fact)):
        return utc(node.created_at)
    return None


def weigh(
    store: Store,
    namespace: str,
    settings: StrengthSettings,
    *,
    now: datetime | None = None,
    kinds: Sequence[NodeKind] = STRENGTH_KINDS,
    ids: Sequence[str] | None = None,
) -> dict[str, Weighed]:
    """The strength of every fact and episode of ``namespace`` (of ``kinds``; or only ``ids``)
    at ``now`` (default: the wall clock)."""
    clock = utc(now) if now is not None else datetime.now(UTC)
    facts: dict[str, Fact] = {}
    episodes: dict[str, Episode] = {}
    for page in _listed(store, namespace, "fact", kinds, ids):
        facts.update(store.get_facts(namespace, page))
    for page in _listed(store, namespace, "episode", kinds, ids):
        episodes.update(store.get_episodes(namespace, page))
    # every statement of the facts involved: theirs, and those of the episodes' facts
    sources: dict[str, set[str]] = {}
    produced: dict[str, set[str]] = {}
    ends = list(facts) + list(episodes)
    for edge in store.edges_of(namespace, ends, ["STATES", "EVIDENCE"]) if ends else []:
        if is_kind(edge.dst, FACT):
            sources.setdefault(edge.dst, set()).add(edge.src)
            if edge.src in episodes:
                produced.setdefault(edge.src, set()).add(edge.dst)
    other = sorted({f for fs in produced.values() for f in fs} - set(facts))
    for edge in store.edges_of(namespace, other, ["STATES", "EVIDENCE"]) if other else []:
        if is_kind(edge.dst, FACT):
            sources.setdefault(edge.dst, set()).add(edge.src)
    stating = sorted({s for fid in facts for s in sources.get(fid, ())} - set(episodes))
    times = {i: t for i, e in episodes.items() if (t := _when(e)) is not None}
    for kind_ids, getter in (
        ([i for i in stating if is_kind(i, EPISODE)], store.get_episodes),
        ([i for i in stating if is_kind(i, PASSAGE)], store.get_passages),
    ):
        if kind_ids:
            for nid, node in getter(namespace, kind_ids).items():
                if (t := _when(node)) is not None:
                    times[nid] = t
    recalled = store.recalls(namespace, ends) if ends else {}
    out: dict[str, Weighed] = {}
    for fid, fact in facts.items():
        stated = sources.get(fid, set())
        seen = [times[s] for s in stated if s in times]
        last = max(seen) if seen else utc(fact.created_at)
        reps = max(len(stated) - 1, 0)
        out[fid] = _weighed(fid, "fact", reps, 0, last, recalled, clock, settings)
    for eid, ep in episodes.items():
        reps = max((len(sources.get(f, ())) - 1 for f in produced.get(eid, ())), default=0)
        n_facts = len(produced.get(eid, ()))
        out[eid] = _weighed(
            eid, "episode", max(reps, 0), n_facts, utc(ep.time), recalled, clock, settings
        )
    return out


def _listed(
    store: Store,
    namespace: str,
    kind: NodeKind,
    kinds: Sequence[NodeKind],
    ids: Sequence[str] | None,
) -> Iterator[list[str]]:
    if kind not in kinds:
        return
    if ids is None:
        yield from id_pages(store, namespace, kind)
        return
    prefix = FACT if kind == "fact" else EPISODE
    mine = [i for i in ids if is_kind(i, prefix)]
    if mine:
        yield mine


def _weighed(
    node_id: str,
    kind: NodeKind,
    repetitions: int,
    facts: int,
    last: datetime,
    recalled: dict[str, tuple[int, datetime]],
    now: datetime,
    settings: StrengthSettings,
) -> Weighed:
    n, at = recalled.get(node_id, (0, last))
    if n and utc(at) > last:
        last = utc(at)
    stability = settings.stability_days * (1 + repetitions + n + settings.content_weight * facts)
    days = max((now - last).total_seconds() / _DAY, 0.0)
    return Weighed(node_id, kind, -days / stability, repetitions, n, last, facts)
