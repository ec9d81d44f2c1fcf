"""Facts written one episode at a time through the functional rule (the temporal tests' helpers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from graphmem.ids import entity_id, episode_id, fact_id
from graphmem.ingest.temporal import apply_functional_rule
from graphmem.models import Edge, Entity, Episode, Fact
from graphmem.store.base import WriteBatch
from graphmem.store.sqlite import SQLiteStore

NS = "t"
#: episodes whose facts change (homes, employers, owners), and checks of the answer at a time
TEMPORAL_EPISODES = Path(__file__).resolve().parents[1] / "data" / "temporal_episodes.jsonl"
T0 = datetime(2020, 1, 1, tzinfo=UTC)


def temporal_episodes() -> list[dict[str, Any]]:
    """The episodes of :data:`TEMPORAL_EPISODES` as ``Memory.add_episodes`` takes them."""
    rows = [
        json.loads(line)
        for line in TEMPORAL_EPISODES.read_text(encoding="utf-8").splitlines()
        if line
    ]
    return [
        {k: r[k] for k in ("session", "time", "speaker", "text")}
        for r in rows
        if r["type"] == "episode"
    ]


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def say(store: SQLiteStore, when: datetime, subject: str, predicate: str, obj: str) -> int:
    """Write one episode stating one fact, through the functional rule; returns facts ended."""
    text = f"{subject} {predicate} {obj}"
    ep = Episode(
        id=episode_id(NS, "s", when.isoformat(), None, text), namespace=NS, text=text, time=when
    )
    s, o = entity_id(NS, subject), entity_id(NS, obj)
    fact = Fact(
        id=fact_id(NS, subject, predicate, obj),
        namespace=NS,
        subject=s,
        predicate=predicate,
        object=o,
        text=text,
    )
    batch = WriteBatch(
        namespace=NS,
        entities=[
            Entity(id=s, namespace=NS, name=subject, normalized=subject.lower()),
            Entity(id=o, namespace=NS, name=obj, normalized=obj.lower()),
        ],
        facts=[fact],
        episodes=[ep],
        edges=[Edge(type="EVIDENCE", src=ep.id, dst=fact.id, namespace=NS)],
    )
    known = store.get_facts(NS, [fact.id]).get(fact.id)
    if known is not None:  # what Ingestor.commit does before the hooks
        fact.created_at, fact.valid_at = known.created_at, known.valid_at
        fact.invalid_at, fact.expired_at = known.invalid_at, known.expired_at
    ended = apply_functional_rule(store, batch)
    store.write(batch)
    return ended
