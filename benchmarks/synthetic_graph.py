"""A synthetic knowledge graph of N facts, shaped like real extracted graphs, and its loader.

Shape (calibrated on musique_train's OpenIE triples: 9.1 facts and 13.5 entities per passage,
0.94 entities per fact, 68% of entities named once, a few hubs):

- facts come 9 to a passage; each passage MENTIONS every entity of its facts and STATES its facts;
- a fact's subject and object are drawn from a Zipf-like popularity law over 2N candidate
  entities (weight of the i-th: (i + 2) ** -0.8), so most entities appear once and a few become
  hubs whose degree grows with N (the top entity has ~600 facts at 17k facts, ~13,000 at 1M),
  as "United States" does in a growing corpus: the case that makes graph retrieval hard to scale.

Nothing here embeds anything: the batches carry no vectors (graph rows only).

    python benchmarks/synthetic_graph.py --facts 10000 --store sqlite:///tmp/syn.db
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphmem.models import Edge, Entity, Fact, Passage, utcnow
from graphmem.store.base import Store, WriteBatch


@dataclass(frozen=True)
class Spec:
    """What to generate: ``facts`` facts, ``per_passage`` to a passage, Zipf exponent ``alpha``."""

    facts: int
    per_passage: int = 9
    alpha: float = 0.8
    seed: int = 0
    namespace: str = "synthetic"


@dataclass
class LoadStats:
    passages: int = 0
    entities: int = 0
    facts: int = 0
    edges: int = 0
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        """Graph rows written: nodes plus relationships (a fact is a node and a RELATES edge)."""
        return self.passages + self.entities + 2 * self.facts + self.edges

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def endpoints(spec: Spec) -> np.ndarray:
    """(facts, 2) entity numbers: subject and object of every fact (subject != object)."""
    rng = np.random.default_rng(spec.seed)
    m = 2 * spec.facts
    weights = (np.arange(m, dtype=np.float64) + 2.0) ** (-spec.alpha)
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    pairs = np.searchsorted(cdf, rng.random((spec.facts, 2)))
    same = pairs[:, 0] == pairs[:, 1]
    pairs[same, 1] = (pairs[same, 1] + 1) % m
    return pairs.astype(np.int64)


def entity_id(i: int) -> str:
    return f"e:{i:09d}"


def passage_id(i: int) -> str:
    return f"p:{i:09d}"


def fact_id(i: int) -> str:
    return f"f:{i:09d}"


def batches(spec: Spec, passages_per_batch: int = 500) -> Iterator[WriteBatch]:
    """The graph as write batches, in passage order; an entity is in the batch that first names it."""
    ns = spec.namespace
    pairs = endpoints(spec)
    n_passages = -(-spec.facts // spec.per_passage)
    seen = np.zeros(2 * spec.facts, dtype=bool)
    now = utcnow()
    for start in range(0, n_passages, passages_per_batch):
        batch = WriteBatch(ns)
        for p in range(start, min(start + passages_per_batch, n_passages)):
            pid = passage_id(p)
            batch.passages.append(
                Passage.model_construct(
                    id=pid,
                    namespace=ns,
                    text=f"synthetic passage {p}",
                    source=f"s{p // 100}",
                    title=None,
                    created_at=now,
                    metadata={},
                    status="ok",
                    error=None,
                )
            )
            mentioned: dict[int, None] = {}
            for f in range(p * spec.per_passage, min((p + 1) * spec.per_passage, spec.facts)):
                s, o = int(pairs[f, 0]), int(pairs[f, 1])
                for e in (s, o):
                    mentioned[e] = None
                    if not seen[e]:
                        seen[e] = True
                        name = f"entity {e}"
                        batch.entities.append(
                            Entity.model_construct(
                                id=entity_id(e),
                                namespace=ns,
                                name=name,
                                normalized=name,
                                type=None,
                                aliases=[],
                            )
                        )
                fid = fact_id(f)
                batch.facts.append(
                    Fact.model_construct(
                        id=fid,
                        namespace=ns,
                        subject=entity_id(s),
                        predicate="relates to",
                        object=entity_id(o),
                        text=f"entity {s} relates to entity {o}",
                        confidence=1.0,
                        valid_at=None,
                        invalid_at=None,
                        created_at=now,
                        expired_at=None,
                    )
                )
                batch.edges.append(Edge(type="STATES", src=pid, dst=fid, namespace=ns))
            batch.edges.extend(
                Edge(type="MENTIONS", src=pid, dst=entity_id(e), namespace=ns) for e in mentioned
            )
        yield batch


def load(
    store: Store, spec: Spec, passages_per_batch: int = 500, progress: bool = False
) -> LoadStats:
    """Write the synthetic graph to ``store``; time only the writes."""
    stats = LoadStats()
    for i, batch in enumerate(batches(spec, passages_per_batch)):
        t0 = time.perf_counter()
        store.write(batch)
        stats.seconds += time.perf_counter() - t0
        stats.passages += len(batch.passages)
        stats.entities += len(batch.entities)
        stats.facts += len(batch.facts)
        stats.edges += len(batch.edges)
        if progress and i % 20 == 0:
            print(f"  {stats.facts:>9,} facts, {stats.rows_per_s:,.0f} rows/s", file=sys.stderr)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--facts", type=int, default=10_000)
    parser.add_argument("--store", default="sqlite:///synthetic.db")
    parser.add_argument("--batch", type=int, default=500, help="passages per write batch")
    args = parser.parse_args()
    from graphmem.store import open_store

    store = open_store(args.store)
    stats = load(store, Spec(facts=args.facts), args.batch, progress=True)
    print(
        f"{stats.rows:,} rows ({stats.passages:,} passages, {stats.entities:,} entities, "
        f"{stats.facts:,} facts, {stats.edges:,} edges) in {stats.seconds:.1f} s: "
        f"{stats.rows_per_s:,.0f} rows/s"
    )
    store.close()


if __name__ == "__main__":
    main()
