"""Forgetting without loss: archive the weakest facts and episodes, restore them on demand.

A policy names what to archive:

- ``strength:<x>``: every active or superseded fact and episode whose strength (see
  :mod:`~graphmem.lifecycle.strength`) is below ``x`` (0 < x <= 1);
- ``quota:<n>``: keep the ``n`` strongest of each kind in the namespace, archive the rest;
  ``quota:<p>%``: keep that share of each kind (``quota:50%`` archives the weaker half).

Archiving records an ``archived`` step (why: the strength and the policy) and nothing else:
the node, its edges, its embedding and its history stay, so export, ``as_of`` searches and
:func:`restore` still see it; only default search leaves it out
(:mod:`~graphmem.lifecycle.visible`). Restoring records a ``restored`` step back to the state
the node's own fields give (an ended fact is superseded again, not active).

>>> parse_policy("quota:100"), parse_policy("strength:0.05"), parse_policy("quota:50%")
(('quota', 100.0), ('strength', 0.05), ('share', 0.5))
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from graphmem.errors import InputError
from graphmem.ids import node_kind
from graphmem.lifecycle.strength import STRENGTH_KINDS, StrengthSettings, Weighed, weigh
from graphmem.models import ForgetReport, LifecycleEvent, RestoreReport
from graphmem.retrieve.results import nodes
from graphmem.store.base import NodeKind, Store
from graphmem.store.states import base_state

__all__ = ["forget", "parse_policy", "restore"]

#: states a forget policy may archive (merged and archived nodes are already out of search)
ARCHIVABLE = frozenset({"active", "superseded"})


def parse_policy(policy: str) -> tuple[str, float]:
    """``("strength", x)``, ``("quota", n)`` or ``("share", p / 100)`` from a policy's text;
    InputError otherwise."""
    name, _, value = (policy or "").strip().partition(":")
    if name == "quota" and value.endswith("%"):
        try:
            share = float(value[:-1]) / 100
        except ValueError:
            share = float("nan")
        if 0 <= share <= 1:
            return "share", share
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if name == "strength" and 0 < number <= 1:
        return name, number
    if name == "quota" and number >= 0 and number == int(number):
        return name, number
    raise InputError(
        f"unknown forget policy {policy!r}: use strength:<x> (0 < x <= 1), quota:<n> (n >= 0) "
        "or quota:<p>% (0 to 100)",
        field="policy",
    )


def forget(
    store: Store,
    namespace: str,
    policy: str,
    settings: StrengthSettings,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    kinds: Sequence[NodeKind] = STRENGTH_KINDS,
) -> ForgetReport:
    """Archive what ``policy`` selects among the namespace's facts and episodes (see above)."""
    name, value = parse_policy(policy)
    unknown = set(kinds) - set(STRENGTH_KINDS)
    if unknown:
        raise InputError(f"only {list(STRENGTH_KINDS)} carry a strength", field="kinds")
    weighed = weigh(store, namespace, settings, now=now, kinds=kinds)
    recorded = store.lifecycle_states(namespace, list(weighed))
    live = [w for w in weighed.values() if recorded.get(w.id, "active") in ARCHIVABLE]
    chosen = _select(live, name, value)
    report = ForgetReport(policy=policy, dry_run=dry_run, considered=len(live))
    for w in chosen:
        report.archived[w.kind] = report.archived.get(w.kind, 0) + 1
    report.ids = sorted(w.id for w in chosen)
    if dry_run or not chosen:
        return report
    at = datetime.now(UTC)
    events = [
        LifecycleEvent(
            node_id=w.id,
            kind=w.kind,
            event="archived",
            state="archived",
            at=at,
            reason=_reason(w, name, value),
            actor=f"forget:{policy.strip()}",
            data={"strength": w.strength, "log_strength": w.log_strength},
        )
        for w in chosen
    ]
    store.record_lifecycle(namespace, events)
    return report


def _select(live: list[Weighed], name: str, value: float) -> list[Weighed]:
    if name == "strength":
        return [w for w in live if w.strength < value]
    # ties broken by id, so the same store and clock always archive the same nodes
    chosen: list[Weighed] = []
    for kind in STRENGTH_KINDS:
        mine = sorted((w for w in live if w.kind == kind), key=lambda w: (-w.log_strength, w.id))
        keep = round(value * len(mine)) if name == "share" else int(value)
        chosen.extend(mine[keep:])
    return chosen


def _reason(w: Weighed, name: str, value: float) -> str:
    if name == "strength":
        return f"strength {w.strength:.3g} below {value:g}"
    if name == "share":
        return f"among the weakest {1 - value:.0%} of {w.kind}s (strength {w.strength:.3g})"
    return f"beyond the quota of the {value:g} strongest {w.kind}s (strength {w.strength:.3g})"


def restore(
    store: Store,
    namespace: str,
    ids: Sequence[str] | None = None,
    *,
    all_archived: bool = False,
) -> RestoreReport:
    """Bring archived or merged nodes (``ids``, or every archived one with ``all_archived``)
    back into default search (a merge is undone); other ids are left as they are."""
    if all_archived == (ids is not None):
        raise InputError("pass ids or all_archived=True (one of them)", field="ids")
    if ids is None:
        wanted = store.ids_in_state(namespace, "archived")
        was = dict.fromkeys(wanted, "archived")
    else:
        states = store.lifecycle_states(namespace, list(ids))
        was = {i: states[i] for i in dict.fromkeys(ids) if states.get(i) in ("archived", "merged")}
        wanted = list(was)
    if not wanted:
        return RestoreReport()
    found = nodes(store, namespace, wanted)
    at = datetime.now(UTC)
    events = [
        LifecycleEvent(
            node_id=i,
            kind=node_kind(i),
            event="restored" if was[i] == "archived" else "unmerged",
            state=base_state(found[i]) if i in found else "active",
            at=at,
            reason="restored on request" if was[i] == "archived" else "merge undone on request",
            actor="restore",
        )
        for i in wanted
    ]
    store.record_lifecycle(namespace, events)
    return RestoreReport(restored=len(wanted), ids=list(wanted))
