"""AriGraph's episode score reads the fact table's evidence where a store keeps one, and gives
the same scores as reading the EVIDENCE edges of each question's facts."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from graphmem.models import Edge, Episode
from graphmem.retrieve.arigraph import arigraph_scores
from graphmem.store.base import HasFactTable, WriteBatch
from graphmem.store.sqlite import SQLiteStore

from support.contract import ent, fact

NS = "ari"


class _EdgesOnly:
    """The store seen without its fact table: the path other stores take."""

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

    def edges_of(
        self, namespace: str, node_ids: Sequence[str], types: Sequence[str] | None = None
    ) -> list[Edge]:
        return self._store.edges_of(namespace, node_ids, types)


@pytest.fixture
def store() -> SQLiteStore:
    s = SQLiteStore(":memory:")
    batch = WriteBatch(NS)
    batch.entities.extend(ent(NS, n) for n in ["Ada", "Tea", "Paris", "Bob"])
    triples = [("Ada", "likes", "Tea"), ("Ada", "lives in", "Paris")]
    triples += [("Bob", "likes", "Tea"), ("Bob", "visited", "Paris")]
    facts = [fact(NS, *t) for t in triples]
    batch.facts.extend(facts)
    # ep:0 evidences facts 0 and 1, ep:1 fact 2 only, ep:2 all four, ep:3 none
    evidence = {0: [0, 1], 1: [2], 2: [0, 1, 2, 3], 3: []}
    for e, fs in evidence.items():
        batch.episodes.append(
            Episode(id=f"ep:{e}", namespace=NS, text=f"turn {e}", time="2024-01-01T00:00:00Z")
        )
        for j in fs:
            batch.edges.append(Edge(type="EVIDENCE", src=f"ep:{e}", dst=facts[j].id, namespace=NS))
    s.write(batch)
    return s


def test_the_table_and_the_edges_give_one_score(store: SQLiteStore) -> None:
    facts = store.fact_table(NS).ids
    hits = [(facts[0], 0.9), (facts[2], 0.5), (facts[3], -0.2)]
    ids = ["ep:0", "ep:1", "ep:2", "ep:3", "ep:missing"]
    assert isinstance(store, HasFactTable) and not isinstance(_EdgesOnly(store), HasFactTable)
    fast, fast_ev = arigraph_scores(store, NS, ids, hits)
    slow, slow_ev = arigraph_scores(_EdgesOnly(store), NS, ids, hits)  # type: ignore[arg-type]
    assert fast.tolist() == pytest.approx(slow.tolist())
    assert {e: sorted(f) for e, f in fast_ev.items()} == {e: sorted(f) for e, f in slow_ev.items()}
    # ep:2 evidences 3 of the hit facts (0.9 + 0.5 + max(-0.2, 0)) among the 4 it evidences
    assert fast[2] == pytest.approx(1.4 / 4 * math.log(5))
    assert fast[0] == pytest.approx(0.9 / 2 * math.log(3))
    assert fast[3] == fast[4] == 0.0


def test_a_write_is_seen(store: SQLiteStore) -> None:
    facts = store.fact_table(NS).ids
    before, _ = arigraph_scores(store, NS, ["ep:3"], [(facts[1], 1.0)])
    store.write(
        WriteBatch(NS, edges=[Edge(type="EVIDENCE", src="ep:3", dst=facts[1], namespace=NS)])
    )
    after, ev = arigraph_scores(store, NS, ["ep:3"], [(facts[1], 1.0)])
    assert (
        before[0] == 0.0 and after[0] == pytest.approx(math.log(2)) and ev == {"ep:3": [facts[1]]}
    )
