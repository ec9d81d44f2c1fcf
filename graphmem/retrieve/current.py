"""Turns by whether what they state still holds: stale turns down, the evidence of what holds up.

Two steps of the episode ranking's last stage (:func:`graphmem.retrieve.episodes._final_order`):

- :func:`superseded`: turns whose changing facts (:func:`graphmem.validity.is_changing`) all no
  longer held at the question's time; they move down.
- :func:`holding_leads` and :func:`lead`: for a question about a state now ("Where does Dana live
  now?") or in a window it names ("Where did Dana live in March 2021?"), the facts of a slot
  (:mod:`graphmem.ingest.slots`) that hold then, among the facts most like the question (within
  ``margin`` of the best such fact's cosine), about an entity the question names and of the
  slots its words ask for when they name any (:func:`graphmem.ingest.slots.question_slots`),
  put the turns that state them first, in the order of their facts' cosine. A turn states a fact when an
  EVIDENCE edge joins them. Only turns already among the candidates move. A question not asked
  ``as_of`` a time is led only by facts default search shows: archived and merged facts
  (:mod:`graphmem.lifecycle.visible`) lead nothing.
- :func:`newer_first`: a value restated later ("I need 120 stars now, not 300") is what holds, even
  when no slot or fact records it (quantities, counts, plans). Among the turns of the window that
  each cover most of the question's content words, restatements of one thing, the newer take the
  places of the older; every other turn keeps its place, so the window's set is unchanged. Only
  a question in the first person ("How many stars do I need?"): an assistant's user restates
  their own values; about others ("What did Caroline paint?") a later turn is not a correction.
  A question that asks for an earlier state ("initially", "before", "used to", a window it
  names) keeps its order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from graphmem.ids import FACT, is_kind
from graphmem.ingest.slots import question_slots
from graphmem.models import HIDDEN_STATES, Episode, Fact
from graphmem.retrieve.asof import stale_episodes
from graphmem.retrieve.episode_rank import Window, named_windows
from graphmem.retrieve.relevance import content_words
from graphmem.store.base import Store
from graphmem.validity import is_changing, is_current, overlaps, utc, valid_at

_EARLIEST = datetime.min.replace(tzinfo=UTC)


def superseded(
    store: Store, namespace: str, episode_ids: Sequence[str], when: datetime | None
) -> set[str]:
    """Episodes whose changing facts all no longer held at ``when`` (None: now)."""
    fast = stale_episodes(store, namespace, episode_ids, when)
    if fast is not None:
        return fast
    evidence: dict[str, list[str]] = {}
    wanted = set(episode_ids)
    for e in store.edges_of(namespace, list(episode_ids), ["EVIDENCE"]):
        if e.src in wanted and is_kind(e.dst, FACT):
            evidence.setdefault(e.src, []).append(e.dst)
    facts = store.get_facts(namespace, sorted({f for fs in evidence.values() for f in fs}))
    out: set[str] = set()
    for ep, fids in evidence.items():
        changing = [facts[f] for f in fids if f in facts and is_changing(facts[f])]
        if not changing:
            continue
        held = [(is_current(f) if when is None else valid_at(f, when)) for f in changing]
        if not any(held):
            out.add(ep)
    return out


def _holds(f: Fact, when: datetime | None, windows: Sequence[Window]) -> bool:
    if windows:
        return any(overlaps(f, a, b) for a, b in windows)
    return is_current(f) if when is None else valid_at(f, when)


def holding_leads(
    store: Store,
    namespace: str,
    question: str,
    fact_hits: Sequence[tuple[str, float]],
    fact_rows: dict[str, Fact],
    named: set[str],
    when: datetime | None,
    windows: Sequence[Window],
    margin: float,
) -> list[str]:
    """Episodes stating the slot facts that hold at ``when`` (or in ``windows``) and best match
    the question, best fact first (see the module docstring)."""
    asked = question_slots(question)
    hidden = _hidden(store, namespace) if when is None else set()
    if asked and named:
        # the question names its subject and the slot: the slot's facts that hold then are the
        # answer whatever their wording's cosine ("Dana took at Google" reads badly), newest first
        held = [
            f
            for f in store.facts_between(namespace, sorted(named))
            if f.slot in asked
            and f.subject in named
            and f.id not in hidden
            and _holds(f, when, windows)
        ]
        if held:
            held.sort(key=lambda f: (utc(f.valid_at) if f.valid_at else _EARLIEST, f.id))
            held.reverse()
            return _stating(store, namespace, [f.id for f in held])
    picked: list[tuple[str, float]] = []
    for fid, sim in fact_hits:
        f = fact_rows.get(fid)
        if f is None or f.id in hidden or not (f.slot is not None or is_changing(f)):
            continue
        if named and f.subject not in named and f.object not in named:
            continue
        if _holds(f, when, windows):
            picked.append((fid, sim))
    of_slot = [(f, s) for f, s in picked if fact_rows[f].slot in asked]
    picked = of_slot or picked
    if not picked:
        return []
    best = max(s for _, s in picked)
    keep = [f for f, s in sorted(picked, key=lambda t: -t[1]) if s >= best - margin]
    return _stating(store, namespace, keep)


def _hidden(store: Store, namespace: str) -> set[str]:
    """Facts left out of default search (:data:`graphmem.models.HIDDEN_STATES`)."""
    return {i for state in HIDDEN_STATES for i in store.ids_in_state(namespace, state)}


def _stating(store: Store, namespace: str, keep: list[str]) -> list[str]:
    """Episodes (and passages) with an EVIDENCE edge to ``keep``'s facts, by their first fact."""
    rank = {f: i for i, f in enumerate(keep)}
    found: dict[str, int] = {}
    for e in store.edges_of(namespace, keep, ["EVIDENCE"]):
        if e.dst in rank and not is_kind(e.src, FACT):
            found[e.src] = min(found.get(e.src, len(rank)), rank[e.dst])
    return sorted(found, key=lambda ep: found[ep])


def lead(order: list[str], leads: Sequence[str], window: int) -> list[str]:
    """``order`` with the ``leads`` found in its first ``window`` places first, leads' order kept
    among them (ties: the order they had)."""
    top = set(order[:window])
    first = [t for t in leads if t in top]
    if not first:
        return order
    moved = set(first)
    return first + [t for t in order if t not in moved]


#: cues of a question about an earlier state, whose answer is not the newest restatement
_EARLIER = re.compile(
    r"\b(?:initial(?:ly)?|original(?:ly)?|first|before|used to|previous(?:ly)?|former(?:ly)?"
    r"|ago|earlier|back then|at the (?:start|beginning))\b",
    re.IGNORECASE,
)


_FIRST_PERSON = re.compile(r"\b(?:I|[Mm]y|[Mm]e|[Mm]ine|I'm|I've|I'd)\b")


def _stems(text: str) -> frozenset[str]:
    # a four-letter prefix joins inflections ("moved"/"move", "finished"/"finishing"); the
    # words come from relevance's cache, so a turn is cut into words once for both
    return frozenset(w[:4] for w in content_words(text))


def newer_first(
    order: list[str],
    rows: Mapping[str, Episode],
    question: str,
    window: int,
    cover: float,
    when: datetime | None = None,
) -> list[str]:
    """``order`` with the restatements among its first ``window`` turns newest first (see the
    module docstring): turns holding at least ``cover`` of the question's content words. Off
    when the question asks for an earlier state or names a window (read against ``when``)."""
    asked = _stems(question)
    if not asked or _EARLIER.search(question) or len(order) < 2:
        return order
    if named_windows(question, when):
        return order
    if not _FIRST_PERSON.search(question):
        return order
    head = order[:window]
    same = [
        i
        for i, t in enumerate(head)
        if t in rows and len(asked & _stems(rows[t].text)) >= cover * len(asked)
    ]
    if len(same) < 2:
        return order
    # newest first; among turns of one time, the order they had
    newest = sorted(same, key=lambda i: (-utc(rows[head[i]].time).timestamp(), i))
    out = list(head)
    for place, i in zip(same, newest, strict=True):
        out[place] = head[i]
    return out + order[window:]
