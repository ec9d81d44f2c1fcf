"""The SQLite store's fact table answers as-of views and change checks as the models do."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from graphmem.retrieve.asof import _graph_as_of_models, graph_as_of
from graphmem.retrieve.episodes import superseded
from graphmem.store.base import HasFactTable
from graphmem.store.sqlite import SQLiteStore

from support.temporal import NS, day, say


class ModelsOnly:
    """The store without its fact table: the model path of every reader."""

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> object:
        if name == "fact_table":
            raise AttributeError(name)
        return getattr(self._store, name)


def dense(view: object) -> np.ndarray:
    return view.matrix().toarray()  # type: ignore[attr-defined,no-any-return]


def episodes(store: SQLiteStore) -> Sequence[str]:
    return store.list_ids(NS, "episode")


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 40),
            st.sampled_from(["lives in", "works at", "likes"]),
            st.sampled_from(["Lisbon", "Porto", "Acme", "tea"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_fact_table_matches_the_models(said: list[tuple[int, str, str]]) -> None:
    store = SQLiteStore(":memory:")
    slow = ModelsOnly(store)
    assert isinstance(store, HasFactTable) and not isinstance(slow, HasFactTable)
    for n, predicate, obj in said:
        say(store, day(n), "Ivy", predicate, obj)  # each write replaces the table and view
        graph = store.graph(NS)
        eps = episodes(store)
        assert superseded(store, NS, eps, None) == superseded(slow, NS, eps, None)  # type: ignore[arg-type]
        for probe in range(-2, 44, 3):
            when = day(probe) + timedelta(hours=1)
            fast = graph_as_of(store, NS, graph, when)
            ref = _graph_as_of_models(slow, NS, graph, when)  # type: ignore[arg-type]
            assert np.array_equal(dense(fast), dense(ref)), (said, probe)
            assert superseded(store, NS, eps, when) == superseded(slow, NS, eps, when)  # type: ignore[arg-type]
    store.close()


def test_table_is_kept_until_a_write() -> None:
    store = SQLiteStore(":memory:")
    say(store, day(0), "Gus", "works at", "Acme")
    table = store.fact_table(NS)
    assert store.fact_table(NS) is table and len(table.ids) == 1
    say(store, day(10), "Gus", "works at", "Hooli")
    again = store.fact_table(NS)
    assert again is not table and len(again.ids) == 2
    assert sum(v is not None for v in again.invalid_at) == 1
    store.close()


def edges(view: object) -> dict[tuple[str, str], float]:
    adj = view.matrix().tocoo()  # type: ignore[attr-defined]
    name = view.node_id  # type: ignore[attr-defined]
    return {
        (name(int(i)), name(int(j))): float(w)
        for i, j, w in zip(adj.row, adj.col, adj.data, strict=True)
    }


def test_warm_then_writes_equals_a_fresh_load(tmp_path: object) -> None:
    path = f"{tmp_path}/w.db"
    store = SQLiteStore(path)
    say(store, day(0), "Gus", "works at", "Acme")
    store.warm(NS)
    say(store, day(10), "Gus", "works at", "Hooli")  # ends the Acme fact: the graph changes
    say(store, day(12), "Gus", "likes", "tea")
    fresh = SQLiteStore(path)
    assert edges(store.graph(NS)) == edges(fresh.graph(NS))
    for probe in (-1, 5, 11, 20):
        warm_view = graph_as_of(store, NS, store.graph(NS), day(probe))
        fresh_view = graph_as_of(fresh, NS, fresh.graph(NS), day(probe))
        assert edges(warm_view) == edges(fresh_view), probe
    assert superseded(store, NS, episodes(store), day(20)) == superseded(
        fresh, NS, episodes(fresh), day(20)
    )
    assert len(superseded(store, NS, episodes(store), day(20))) == 1  # the Acme turn
    store.close()
    fresh.close()
