"""The passage walk's seeds: passages counted around an entity the same way on every view, and
names given late (a namer still running) seeding exactly as names given up front."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from graphmem.ids import entity_id
from graphmem.retrieve.passages import PassageSearchSettings, passage_degrees, retrieve
from graphmem.store.graph import CSRGraph
from graphmem.store.sqlite import SQLiteStore

from support.contract import DOCS, doc_batch, vec

NS = "seeds"


class _Remote:
    """A view without the in-memory mask (as a server store's): the string test counts."""

    def __init__(self, inner: CSRGraph) -> None:
        self.inner = inner

    def neighbors(self, nodes: Sequence[int]) -> list[tuple[np.ndarray, np.ndarray]]:
        return self.inner.neighbors(nodes)

    def node_id(self, index: int) -> str:
        return self.inner.node_id(index)


def _store() -> SQLiteStore:
    store = SQLiteStore(":memory:")
    store.write(doc_batch(NS, DOCS))
    return store


def test_passages_around_an_entity_counted_alike_with_and_without_the_mask() -> None:
    with _store() as store:
        view = store.graph(NS)
        nodes = list(range(view.num_nodes))
        counts = passage_degrees(view, nodes)
        assert counts == passage_degrees(_Remote(view), nodes)  # type: ignore[arg-type]
        # Acme is stated by two passages, Bob by one
        by_id = dict(zip((view.node_id(i) for i in nodes), counts, strict=True))
        assert by_id[entity_id(NS, "Acme")] == 2 and by_id[entity_id(NS, "Bob")] == 1


def test_names_given_late_seed_as_names_given_up_front() -> None:
    named = [entity_id(NS, "Carol"), entity_id(NS, "Paris")]
    asked: list[int] = []

    def late() -> list[str]:
        asked.append(1)
        return named

    q = vec("Who does Bob know?")
    with _store() as store:
        now = retrieve(store, NS, q, 3, named=named)
        later = retrieve(store, NS, q, 3, named=late)
        assert asked == [1]
        assert later.hits == now.hits and later.seeds == now.seeds
        assert entity_id(NS, "Carol") in now.seeds
        off = PassageSearchSettings(named_weight=0.0)
        retrieve(store, NS, q, 3, off, named=late)
        assert asked == [1]  # names that count for nothing are not waited for
