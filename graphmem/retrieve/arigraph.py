"""AriGraph's episode score: how strongly an episode evidences the facts a question reached.

An episode that evidences relevant facts scores the sum of their similarities, spread over all
the facts it evidences and lifted by their number: ``sum(sim) / N * log(1 + N)``. A store that
keeps a :class:`~graphmem.store.base.FactTable` (SQLite) answers from its evidence pairs, indexed
once per state of the namespace; others read the EVIDENCE edges of each question's facts.

>>> from graphmem.store.sqlite import SQLiteStore
>>> with SQLiteStore(":memory:") as store:
...     arigraph_scores(store, "default", ["ep:1"], [])
(array([0.]), {})
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Sequence

import numpy as np

from graphmem.ids import FACT, is_kind
from graphmem.store.base import FactTable, HasFactTable, Store

__all__ = ["arigraph_scores"]

#: fact table -> (episode or passage -> the facts it evidences, fact -> what evidences it)
_BY_TABLE: weakref.WeakKeyDictionary[
    FactTable, tuple[dict[str, list[str]], dict[str, list[str]]]
] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _evidenced(table: FactTable) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    with _LOCK:  # built under the lock: two threads warming one namespace build it once
        found = _BY_TABLE.get(table)
        if found is None:
            of: dict[str, list[str]] = {}
            by: dict[str, list[str]] = {}
            for src, dst in table.evidence:
                of.setdefault(src, []).append(dst)
                by.setdefault(dst, []).append(src)
            found = _BY_TABLE[table] = (of, by)
    return found


def _evidence_of(
    store: Store, namespace: str, ids: Sequence[str], facts: Sequence[str]
) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Each of ``ids`` that evidences one of ``facts``: those facts, and how many it evidences."""
    wanted = set(facts)
    pos = set(ids)
    relevant: dict[str, list[str]] = {}
    if isinstance(store, HasFactTable):
        of, by = _evidenced(store.fact_table(namespace))
        for f in dict.fromkeys(facts):
            for src in by.get(f, ()):
                if src in pos:
                    relevant.setdefault(src, []).append(f)
        return relevant, {src: len(of[src]) for src in relevant}
    for edge in store.edges_of(namespace, list(wanted), ["EVIDENCE"]):
        if edge.dst in wanted and edge.src in pos:
            relevant.setdefault(edge.src, []).append(edge.dst)
    totals: dict[str, int] = {}
    if relevant:
        for edge in store.edges_of(namespace, list(relevant), ["EVIDENCE"]):
            if edge.src in relevant and is_kind(edge.dst, FACT):
                totals[edge.src] = totals.get(edge.src, 0) + 1
    return relevant, totals


def arigraph_scores(
    store: Store, namespace: str, ids: list[str], fact_hits: Sequence[tuple[str, float]]
) -> tuple[np.ndarray, dict[str, list[str]]]:
    """Each of ``ids``' score (``fact_hits``: the question's facts and their similarities), and
    the relevant facts each evidences."""
    out = np.zeros(len(ids))
    if not fact_hits:
        return out, {}
    sim = dict(fact_hits)
    relevant, totals = _evidence_of(store, namespace, ids, list(sim))
    pos = {e: j for j, e in enumerate(ids)}
    for ep, facts in relevant.items():
        n = sum(max(sim[f], 0.0) for f in set(facts))
        total = max(totals.get(ep, 1), 1)
        out[pos[ep]] = n / total * math.log(1 + total)
    return out, relevant


def warm(store: Store, namespace: str) -> None:
    """Index the fact table's evidence now (no-op for stores without one)."""
    if isinstance(store, HasFactTable):
        _evidenced(store.fact_table(namespace))
