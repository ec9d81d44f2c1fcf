"""Consolidation (issue 22): merge duplicate entities on alias evidence and fold repeated facts,
each step recorded and reversible (``Memory.restore``); nothing is deleted.

**Entities.** For a name A, every longer entity B that names the same thing by one of these
pieces of evidence is a candidate, weighed by the evidence (:data:`EVIDENCE_WEIGHTS`):

- ``qualified``: B is A with a place after a comma ("Toronto, Ontario"), the place being another
  entity of the namespace (so "Florence, Grace", a list, is none);
- ``acronym``: A, in capitals, is the initials of B ("UK", "United Kingdom");
- ``alias``: the extractor recorded A as an alias of B ("Priya" of "Priya Natarajan");
- ``head``: B is "Project A" or "A team";
- ``plural``: B is A with an "s" ("Kite design reviews");
- ``first_name``: A is one word and B is A followed by capitalised words only ("Alex Novak", not
  "Lisbon office", "NUMBERS Trial" or "Sofia Lindqvist Role").

A must read as a name (its first letter a capital): common nouns ("customer") never merge.

A merges into the candidate of highest weight when that one is unique; a tie ("Daniel" is an
alias of Daniel Reyes and of Daniel Okoro; "Heron" of Project Heron and of Heron Street) merges
nothing: a missed duplicate costs less than a wrong merge. Labelled pairs on the notes folder
measure it (``benchmarks/consolidation_eval.py``).

**Facts.** Facts with the same subject and object whose predicates and texts read alike once
the verbs "to be" and "to have" are folded ("Ada is in Lisbon", "Ada was in Lisbon") fold into
the oldest one (same ends and predicate are not enough: "is two alerts", "is four alerts").
A fact that still holds never folds into one that has ended, nor the other way round: the
folded fact leaves default search, and the current value must not leave with it.

A merge records ``merged`` on the duplicate (state merged, ``data.into``, the evidence) and
``absorbed`` on the node kept (its state unchanged; ``data.from``; for facts ``data.count``,
every statement of the group, and ``data.evidence``, their passages and episodes). A merged node
leaves default search as an archived one does (:mod:`~graphmem.lifecycle.visible`); its edges
stay, so walks still pass through it. ``restore`` undoes a merge.

>>> [m.into for m in entity_merges([_e("Priya Natarajan", ["Priya"]), _e("Priya")])]
['e:priya natarajan']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from graphmem.embed.base import Embedder
from graphmem.lifecycle.summaries import session_units
from graphmem.models import ConsolidateReport, Entity, Fact, LifecycleEvent, is_current
from graphmem.names import fold
from graphmem.store.base import Store, id_pages
from graphmem.store.states import state_of

__all__ = ["EVIDENCE_WEIGHTS", "Merge", "consolidate", "entity_merges", "fact_folds"]

#: how much each piece of evidence counts towards a merge candidate
EVIDENCE_WEIGHTS = {
    "qualified": 2,
    "acronym": 2,
    "alias": 1,
    "head": 1,
    "plural": 1,
    "first_name": 1,
}
_WORD = re.compile(r"^[A-ZÀ-Þ][\w'’-]*$")
_TITLE = re.compile(r"^[A-ZÀ-Þ][a-zß-ÿ'’-]+$")
_BE = {"is", "was", "are", "were", "be", "been", "being", "am"}
_HAVE = {"has", "had", "have", "having"}


@dataclass(frozen=True)
class Merge:
    """One duplicate and the node it merges into, with why."""

    kind: str
    id: str
    into: str
    evidence: tuple[str, ...]
    data: dict[str, object] = field(default_factory=dict)


def _e(name: str, aliases: Sequence[str] = ()) -> Entity:
    """An entity for the examples (its id is its folded name)."""
    return Entity(id=f"e:{fold(name)}", name=name, normalized=fold(name), aliases=list(aliases))


def _evidence(a: Entity, b: Entity, names: set[str]) -> list[str]:
    fa, fb = fold(a.name), fold(b.name)
    if not fa or fa == fb or len(fb) <= len(fa) or not a.name[:1].isupper():
        return []
    found: list[str] = []
    head, sep, tail = b.name.partition(",")
    if sep and fold(head) == fa and fold(tail) in names:
        found.append("qualified")
    words = b.name.split()
    caps = a.name.strip()
    initials = "".join(w[0] for w in words).upper()
    if caps.isupper() and len(caps) >= 2 and initials == caps and all(map(_WORD.match, words)):
        found.append("acronym")
    if fa in {fold(x) for x in b.aliases}:
        found.append("alias")
    if fb in (f"project {fa}", f"{fa} team"):
        found.append("head")
    if fb == f"{fa}s":
        found.append("plural")
    if (
        not sep
        and len(a.name.split()) == 1
        and len(words) > 1
        and fold(words[0]) == fa
        and all(_TITLE.match(w) for w in words)
    ):
        found.append("first_name")
    return found


def entity_merges(entities: Sequence[Entity]) -> list[Merge]:
    """The duplicate entities among ``entities`` and what each merges into (see above)."""
    names = {fold(e.name) for e in entities}
    by_first: dict[str, list[Entity]] = {}
    for e in entities:
        for key in {fold(w) for w in e.name.replace(",", " ").split()[:1]} | {
            fold(x) for x in e.aliases
        }:
            by_first.setdefault(key, []).append(e)
    acronyms: dict[str, list[Entity]] = {}
    for e in entities:
        words = e.name.split()
        if len(words) > 1:
            acronyms.setdefault("".join(w[0] for w in words).upper(), []).append(e)
    merges: list[Merge] = []
    for a in entities:
        fa = fold(a.name)
        pool = by_first.get(fa.split()[0] if fa else "", []) + acronyms.get(a.name.strip(), [])
        pool += by_first.get(fa, [])
        scored: dict[str, tuple[int, Entity, list[str]]] = {}
        for b in pool:
            if b.id == a.id or b.id in scored:
                continue
            found = _evidence(a, b, names)
            if found:
                scored[b.id] = (sum(EVIDENCE_WEIGHTS[x] for x in found), b, found)
        if not scored:
            continue
        best = max(s for s, _, _ in scored.values())
        top = [(b, found) for s, b, found in scored.values() if s == best]
        if len(top) == 1:
            b, found = top[0]
            merges.append(Merge("entity", a.id, b.id, tuple(found)))
    # a node kept is never itself merged away in the same pass (no chains)
    merged = {m.id for m in merges}
    return [m for m in merges if m.into not in merged]


def _reads(text: str) -> str:
    words = text.lower().split()
    return " ".join("be" if w in _BE else "have" if w in _HAVE else w for w in words)


def fact_folds(facts: Sequence[Fact], statements: dict[str, set[str]]) -> list[Merge]:
    """Facts that repeat one another (same ends, alike predicates), folded into the oldest."""
    groups: dict[tuple[str, str, str, str, bool], list[Fact]] = {}
    for f in facts:
        key = (f.subject, f.object, _reads(f.predicate), _reads(f.text), is_current(f))
        groups.setdefault(key, []).append(f)
    out: list[Merge] = []
    for group in groups.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda f: (f.created_at, f.id))
        kept, rest = group[0], group[1:]
        every = sorted({s for f in group for s in statements.get(f.id, ())})
        data: dict[str, object] = {"count": max(len(every), len(group)), "evidence": every}
        for f in rest:
            out.append(Merge("fact", f.id, kept.id, ("predicate",), data))
    return out


def consolidate(
    store: Store,
    namespace: str,
    *,
    dry_run: bool = False,
    entities: bool = True,
    facts: bool = True,
    summaries: Embedder | None = None,
) -> ConsolidateReport:
    """Find and (unless ``dry_run``) record the merges of ``namespace`` (see above); with an
    embedder as ``summaries``, also write a unit per session (:mod:`~graphmem.lifecycle.summaries`)."""
    merges: list[Merge] = []
    state_now: dict[str, str] = {}
    if entities:
        found = [
            e
            for page in id_pages(store, namespace, "entity")
            for e in store.get_entities(namespace, page).values()
        ]
        state_now.update(store.lifecycle_states(namespace, [e.id for e in found]))
        live = [e for e in found if state_now.get(e.id, "active") == "active"]
        merges.extend(entity_merges(live))
    if facts:
        found_f = [
            f
            for page in id_pages(store, namespace, "fact")
            for f in store.get_facts(namespace, page).values()
        ]
        states = store.lifecycle_states(namespace, [f.id for f in found_f])
        # a fact's state may come from its own fields (superseded) with nothing recorded
        state_now.update({f.id: state_of(f, states.get(f.id)) for f in found_f})
        live_f = [f for f in found_f if state_now[f.id] in ("active", "superseded")]
        stated: dict[str, set[str]] = {}
        ids = [f.id for f in live_f]
        for edge in store.edges_of(namespace, ids, ["STATES", "EVIDENCE"]) if ids else []:
            stated.setdefault(edge.dst, set()).add(edge.src)
        merges.extend(fact_folds(live_f, stated))
    report = ConsolidateReport(
        dry_run=dry_run,
        merged_entities=sum(m.kind == "entity" for m in merges),
        folded_facts=sum(m.kind == "fact" for m in merges),
        merges=[
            {"id": m.id, "into": m.into, "kind": m.kind, "evidence": list(m.evidence)}
            for m in merges
        ],
    )
    if summaries is not None:
        units = session_units(store, summaries, namespace)
        report.session_units = len(units.hyperedges)
        if units.hyperedges and not dry_run:
            store.write(units)
    if dry_run or not merges:
        return report
    at = datetime.now(UTC)
    events: list[LifecycleEvent] = []
    for m in merges:
        why = ", ".join(m.evidence)
        events.append(
            LifecycleEvent(
                node_id=m.id, kind=m.kind, event="merged", state="merged", at=at,
                reason=f"a duplicate of {m.into} ({why})", actor="consolidate",
                data={"into": m.into, "evidence": list(m.evidence)},
            )
        )  # fmt: skip
        kept = state_now.get(m.into)
        events.append(
            LifecycleEvent(
                node_id=m.into, kind=m.kind, event="absorbed",
                state="superseded" if kept == "superseded" else "active", at=at,
                reason=f"{m.id} merged into it ({why})", actor="consolidate",
                data={"from": m.id, **m.data},
            )
        )  # fmt: skip
    store.record_lifecycle(namespace, events)
    return report
