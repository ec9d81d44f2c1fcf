"""``as_of`` views of the PageRank graph (the fact edges of the world at a past time), and which
episodes' changing facts no longer held at a time.

A store with a :class:`~graphmem.store.base.FactTable` (SQLite) answers both from columns read
once per state of the namespace: the as-of view of a time is built from the facts whose state
then differs from now, and cached by that set (every question after the last change of a history
shares one view, whatever its exact time). Other stores read the facts for each new time.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from graphmem.ids import ENTITY, is_kind, of_kind
from graphmem.models import Fact
from graphmem.store.base import FactTable, HasFactTable, Store
from graphmem.store.graph import CSRGraph, GraphView
from graphmem.validity import fact_class, is_current, utc, valid_at

#: per store (dropped with it): (namespace, nodes, edges, time) -> view (stores without a table)
_CACHE: weakref.WeakKeyDictionary[Store, dict[tuple[str, int, int, str], CSRGraph]] = (
    weakref.WeakKeyDictionary()
)
_PER_STORE = 16
_PER_VIEW = 32
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_MIN = np.iinfo(np.int64).min
_MAX = np.iinfo(np.int64).max
_LOCK = threading.Lock()

IntArray = npt.NDArray[np.int64]


def _us(value: datetime | None, missing: int) -> int:
    return missing if value is None else (utc(value) - _EPOCH) // _US


@dataclass
class _Times:
    """A fact table's validity as integer microseconds, and its facts' ends in one graph view."""

    table: FactTable
    valid: IntArray
    invalid: IntArray
    current: npt.NDArray[np.bool_]
    #: fact rows that are edges of the graph (ends known, distinct, one an entity) and their ends
    rows: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    subj: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    obj: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    views: dict[bytes, GraphView] = field(default_factory=dict)

    def held(self, rows: IntArray, when: datetime) -> npt.NDArray[np.bool_]:
        t = _us(when, 0)
        out: npt.NDArray[np.bool_] = (self.valid[rows] <= t) & (self.invalid[rows] > t)
        return out


def _times(table: FactTable) -> _Times:
    return _Times(
        table=table,
        valid=np.array([_us(v, _MIN) for v in table.valid_at], dtype=np.int64),
        invalid=np.array([_us(v, _MAX) for v in table.invalid_at], dtype=np.int64),
        current=np.array(
            [
                a is None and b is None
                for a, b in zip(table.invalid_at, table.expired_at, strict=True)
            ],
            dtype=bool,
        ),
    )


#: graph view -> its fact times (a store's view is replaced on every write to its namespace)
_BY_VIEW: weakref.WeakKeyDictionary[GraphView, _Times] = weakref.WeakKeyDictionary()
#: fact table -> episode -> rows of the changing facts it evidences
_CHANGING: weakref.WeakKeyDictionary[FactTable, tuple[_Times, dict[str, IntArray]]] = (
    weakref.WeakKeyDictionary()
)


def _view_times(table: FactTable, graph: GraphView) -> _Times:
    with _LOCK:
        found = _BY_VIEW.get(graph)
    if found is not None and found.table is table:
        return found
    t = _times(table)
    rows, subj, obj = [], [], []
    for r, (s, o) in enumerate(zip(table.subjects, table.objects, strict=True)):
        if s == o or not (is_kind(s, ENTITY) or is_kind(o, ENTITY)):
            continue
        i, j = graph.index_of(s), graph.index_of(o)
        if i is not None and j is not None:
            rows.append(r)
            subj.append(i)
            obj.append(j)
    t.rows = np.array(rows, dtype=np.int64)
    t.subj = np.array(subj, dtype=np.int64)
    t.obj = np.array(obj, dtype=np.int64)
    with _LOCK:
        _BY_VIEW[graph] = t
    return t


def graph_as_of(store: Store, namespace: str, graph: GraphView, when: datetime) -> GraphView:
    """``graph`` with the fact edges of the world at ``when`` instead of the current ones.

    Current facts not yet valid at ``when`` leave; facts valid then but ended since come back.
    ``graph`` itself when no fact differs.
    """
    if not isinstance(store, HasFactTable):
        return _graph_as_of_models(store, namespace, graph, when)
    t = _view_times(store.fact_table(namespace), graph)
    then_in = t.held(t.rows, when)
    differ = np.flatnonzero(then_in != t.current[t.rows])
    if differ.size == 0:
        return graph
    key = differ.tobytes()
    hit = t.views.get(key)
    if hit is not None:
        return hit
    w = np.where(then_in[differ], 1.0, -1.0)
    i, j = t.subj[differ], t.obj[differ]
    view = _with_delta(
        graph, np.concatenate([i, j]), np.concatenate([j, i]), np.concatenate([w, w])
    )
    if len(t.views) >= _PER_VIEW:
        t.views.clear()
    t.views[key] = view
    return view


def _with_delta(
    graph: GraphView, rows: IntArray, cols: IntArray, vals: npt.NDArray[np.float64]
) -> CSRGraph:
    adj = graph.matrix()
    n = adj.shape[0]
    new = adj.copy()
    if rows.size:
        delta = sp.coo_matrix((vals, (rows, cols)), shape=(n, n))
        new = (adj + delta.tocsr()).tocsr()
        new.data[new.data < 1e-12] = 0.0
        new.eliminate_zeros()
    if isinstance(graph, CSRGraph):
        return graph.with_matrix(new)
    ids = [graph.node_id(i) for i in range(graph.num_nodes)]
    return CSRGraph(ids, {nid: i for i, nid in enumerate(ids)}, new)


def _graph_as_of_models(
    store: Store, namespace: str, graph: GraphView, when: datetime
) -> GraphView:
    """The as-of view from every fact of the graph's entities as models (cached per time)."""
    adj = graph.matrix()
    key = (namespace, graph.num_nodes, int(adj.nnz), utc(when).isoformat())
    cache = _CACHE.setdefault(store, {})
    hit = cache.get(key)
    if hit is not None:
        return hit
    ids = [graph.node_id(i) for i in range(graph.num_nodes)]
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for f in store.facts_between(namespace, of_kind(ids, ENTITY)):
        now_in, then_in = is_current(f), valid_at(f, when)
        if f.subject == f.object or now_in == then_in:
            continue
        i, j = graph.index_of(f.subject), graph.index_of(f.object)
        if i is None or j is None:
            continue
        w = 1.0 if then_in else -1.0
        rows += [i, j]
        cols += [j, i]
        vals += [w, w]
    view = _with_delta(graph, np.array(rows, np.int64), np.array(cols, np.int64), np.array(vals))
    if len(cache) >= _PER_STORE:
        cache.clear()
    cache[key] = view
    return view


class _ClassRow:
    """The two fields :func:`~graphmem.validity.fact_class` reads."""

    __slots__ = ("predicate", "text")

    def __init__(self, predicate: str, text: str) -> None:
        self.predicate = predicate
        self.text = text


def _changing(table: FactTable) -> tuple[_Times, dict[str, IntArray]]:
    with _LOCK:
        found = _CHANGING.get(table)
    if found is not None:
        return found
    classes: dict[tuple[str, str], bool] = {}
    row_of: dict[str, int] = {}
    rows = zip(table.ids, table.predicates, table.texts, table.invalid_at, strict=True)
    for r, (fid, p, text, ended) in enumerate(rows):
        changing = classes.get((p, text))
        if changing is None:
            changing = fact_class(cast("Fact", _ClassRow(p, text))) is not None
            classes[(p, text)] = changing
        # an ended fact changed, whatever its class: slot matching (graphmem.ingest.slots) ends
        # facts of relations no fixed class names
        if changing or ended is not None:
            row_of[fid] = r
    by_episode: dict[str, set[int]] = {}
    for src, dst in table.evidence:
        if dst in row_of:
            by_episode.setdefault(src, set()).add(row_of[dst])
    out = (_times(table), {e: np.array(sorted(rs), np.int64) for e, rs in by_episode.items()})
    with _LOCK:
        _CHANGING[table] = out
    return out


def stale_episodes(
    store: Store, namespace: str, episode_ids: Sequence[str], when: datetime | None
) -> set[str] | None:
    """Episodes whose changing facts (:func:`~graphmem.validity.is_changing`) all no longer held
    at ``when`` (None: now); None when the store keeps no fact table."""
    if not isinstance(store, HasFactTable):
        return None
    times, changing = _changing(store.fact_table(namespace))
    out: set[str] = set()
    for ep in episode_ids:
        rows = changing.get(ep)
        if rows is None:
            continue
        held = times.current[rows] if when is None else times.held(rows, when)
        if not held.any():
            out.add(ep)
    return out


def warm(store: Store, namespace: str) -> None:
    """Derive what :func:`graph_as_of` and :func:`stale_episodes` read from the store's fact
    table (no-op for stores without one), so the first question does not pay it."""
    if isinstance(store, HasFactTable):
        table = store.fact_table(namespace)
        _view_times(table, store.graph(namespace))
        _changing(table)
