"""graphmem.store.export: a namespace as JSON Lines, on a real SQLite store."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from graphmem.errors import InputError, StoreError
from graphmem.ids import (
    entity_id,
    episode_id,
    event_id,
    fact_id,
    hyperedge_id,
    normalize_name,
    passage_id,
)
from graphmem.models import Edge, Entity, Episode, Event, Fact, Hyperedge, LifecycleEvent, Passage
from graphmem.store import open_store
from graphmem.store.base import NODE_KINDS, Store, WriteBatch, embed_key, kind_of
from graphmem.store.export import export_namespace

NS, OTHER = "main", "other"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
MODELS = {
    "passage": Passage,
    "entity": Entity,
    "fact": Fact,
    "event": Event,
    "hyperedge": Hyperedge,
    "episode": Episode,
}


def world(ns: str, n: int, word: str) -> WriteBatch:
    """``n`` passages about ``word``, each mentioning two entities and stating a fact, an event
    and a hyperedge about them, and ``n`` episodes in one session, chained by NEXT edges."""
    b = WriteBatch(ns, embedding_model="m")
    names = [f"{word} {i}" for i in range(n + 1)]
    b.entities = [
        Entity(
            id=entity_id(ns, x),
            name=x,
            normalized=normalize_name(x),
            namespace=ns,
            aliases=[x.upper()],
        )
        for x in names
    ]
    for i in range(n):
        s, o = b.entities[i], b.entities[i + 1]
        text = f"{s.name} knows {o.name}."
        p = Passage(
            id=passage_id(ns, text),
            text=text,
            source=f"doc{i % 3}",
            created_at=T0,
            metadata={"i": i, "z": [1, "é"], "a": None},
            namespace=ns,
        )
        f = Fact(
            id=fact_id(ns, s.name, "knows", o.name),
            subject=s.id,
            predicate="knows",
            object=o.id,
            text=text,
            created_at=T0,
            valid_at=T0 + timedelta(days=i),
            namespace=ns,
        )
        ev = Event(
            id=event_id(ns, f"{s.name} met {o.name}", None),
            namespace=ns,
            description=f"{s.name} met {o.name}",
            participants=[s.id, o.id],
        )
        he = Hyperedge(
            id=hyperedge_id(ns, "pair", f"{i}"),
            description=f"pair {i} of {word}",
            kind="pair",
            members=[s.id, o.id],
            namespace=ns,
        )
        b.passages.append(p)
        b.facts.append(f)
        b.events.append(ev)
        b.hyperedges.append(he)
        b.edges += [
            Edge(type="MENTIONS", src=p.id, dst=s.id, namespace=ns),
            Edge(type="MENTIONS", src=p.id, dst=o.id, namespace=ns),
            Edge(type="STATES", src=p.id, dst=f.id, namespace=ns, props={"at": i}),
            Edge(type="STATES", src=p.id, dst=ev.id, namespace=ns),
            Edge(type="INVOLVES", src=ev.id, dst=s.id, namespace=ns),
            Edge(type="CONNECTS", src=he.id, dst=o.id, namespace=ns, weight=0.5),
        ]
    times = [T0 + timedelta(minutes=i) for i in range(n)]
    b.episodes = [
        Episode(
            id=episode_id(ns, "s", t.isoformat(), "u", f"{word} turn {i}"),
            text=f"{word} turn {i}",
            time=t,
            speaker="u",
            session="s",
            namespace=ns,
        )
        for i, t in enumerate(times)
    ]
    b.edges += [
        Edge(type="NEXT", src=x.id, dst=y.id, namespace=ns)
        for x, y in zip(b.episodes, b.episodes[1:], strict=False)
    ]
    b.edges.append(
        Edge(type="SYNONYM", src=b.entities[0].id, dst=b.entities[1].id, weight=0.9, namespace=ns)
    )
    for node in b.nodes():
        b.vectors[embed_key(node)] = np.ones(4, dtype=np.float32)
    return b


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store("sqlite:///" + str(tmp_path / "graph.db"))
    # The other namespace first, and with the same explicit ids, so a leak could not hide.
    other = world(OTHER, 4, "Zeta")
    other.entities.append(Entity(id="e:shared", name="Leak", normalized="leak", namespace=OTHER))
    s.write(other)
    main = world(NS, 7, "Alpha")
    main.entities.append(Entity(id="e:shared", name="Kept", normalized="kept", namespace=NS))
    s.write(main)
    yield s
    s.close()


def lines(text: str) -> list[dict[str, Any]]:
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def export_text(store: Store, batch: int = 500, ns: str = NS) -> tuple[str, dict[str, int]]:
    out = io.StringIO()
    counts = export_namespace(store, ns, out, batch=batch)
    return out.getvalue(), counts


def test_counts_match_stats(store: Store) -> None:
    text, counts = export_text(store, batch=3)
    stats = store.stats(NS)
    assert counts == {
        "passage": stats.passages,
        "entity": stats.entities,
        "fact": stats.facts,
        "event": stats.events,
        "hyperedge": stats.hyperedges,
        "episode": stats.episodes,
        "edges": stats.edges,
        "lifecycle": 0,
    }
    assert counts["passage"] == 7 and counts["entity"] == 9 and counts["edges"] == 7 * 6 + 6 + 1
    rows = lines(text)
    assert len(rows) == sum(counts.values())
    for kind in NODE_KINDS:
        assert sum(r.get("kind") == kind for r in rows) == counts[kind]


def test_every_line_parses_back_into_what_the_store_holds(store: Store) -> None:
    text, _ = export_text(store, batch=4)
    rows = lines(text)
    nodes = [r for r in rows if r["type"] == "node"]
    edges = [r for r in rows if r["type"] == "edge"]
    assert rows == nodes + edges  # every node line comes first
    assert all(set(r) == {"type", "kind", "state", "data"} for r in nodes)
    assert {r["state"] for r in nodes} == {"active"}
    assert all(set(r) == {"type", "edge"} for r in edges)
    # Nodes by kind, then id; each is the stored model, unchanged by the JSON round trip.
    assert [(r["kind"], r["data"]["id"]) for r in nodes] == sorted(
        ((r["kind"], r["data"]["id"]) for r in nodes), key=lambda k: (NODE_KINDS.index(k[0]), k[1])
    )
    getters = {
        "passage": store.get_passages,
        "entity": store.get_entities,
        "fact": store.get_facts,
        "event": store.get_events,
        "hyperedge": store.get_hyperedges,
        "episode": store.get_episodes,
    }
    for r in nodes:
        node = MODELS[r["kind"]].model_validate(r["data"])
        assert kind_of(node) == r["kind"]
        assert getters[r["kind"]](NS, [node.id]) == {node.id: node}
        assert "embedding" not in r["data"] and "vector" not in r["data"]
    # Edges: each stored edge once, the same as edges_of returns.
    parsed = [Edge.model_validate(r["edge"]) for r in edges]
    keys = [(e.type, e.src, e.dst) for e in parsed]
    assert len(set(keys)) == len(keys)
    ids = [r["data"]["id"] for r in nodes]
    stored = {(e.type, e.src, e.dst): e for e in store.edges_of(NS, ids)}
    assert {k: e for k, e in zip(keys, parsed, strict=True)} == stored
    assert next(e for e in parsed if e.type == "CONNECTS").weight == 0.5
    assert next(e for e in parsed if e.type == "STATES" and e.props).props["at"] in range(7)


def test_two_runs_give_the_same_bytes_whatever_the_batch(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    first, second = out / "a.jsonl", out / "b.jsonl"
    c1 = export_namespace(store, NS, first)
    c2 = export_namespace(store, NS, str(second), batch=1)
    assert c1 == c2
    data = first.read_bytes()
    assert data == second.read_bytes()
    assert data == export_text(store, batch=10_000)[0].encode()
    assert "é".encode() in data  # UTF-8, not \\u escapes
    assert sorted(p.name for p in out.iterdir()) == ["a.jsonl", "b.jsonl"]  # no temp files left


def test_another_namespaces_data_never_appears(store: Store) -> None:
    text, counts = export_text(store, batch=2)
    assert counts["entity"] == 9
    assert "Zeta" not in text and "Leak" not in text and OTHER not in text
    rows = lines(text)
    assert {r["data"]["namespace"] for r in rows if r["type"] == "node"} == {NS}
    assert {r["edge"]["namespace"] for r in rows if r["type"] == "edge"} == {NS}
    shared = [r["data"]["name"] for r in rows if r.get("data", {}).get("id") == "e:shared"]
    assert shared == ["Kept"]
    other_text, other_counts = export_text(store, ns=OTHER)
    assert "Alpha" not in other_text and "Kept" not in other_text
    assert other_counts["passage"] == 4 and other_counts["entity"] == 6
    empty_text, empty_counts = export_text(store, ns="nobody")
    assert empty_text == "" and set(empty_counts.values()) == {0}


def test_edges_to_nodes_never_written(store: Store) -> None:
    p = store.list_ids(NS, "passage", limit=1)[0]
    store.write(
        WriteBatch(
            NS,
            edges=[
                Edge(type="STATES", src=p, dst="f:never", namespace=NS),  # a node's edge: exported
                Edge(type="MENTIONS", src="p:ghost", dst=entity_id(NS, "Alpha 0"), namespace=NS),
                Edge(type="SYNONYM", src="e:ghost1", dst="e:ghost2", namespace=NS),  # no listed end
            ],
        )
    )
    text, counts = export_text(store, batch=2)
    assert counts["edges"] == store.stats(NS).edges - 1
    edges = [r["edge"] for r in lines(text) if r["type"] == "edge"]
    pairs = [(e["src"], e["dst"]) for e in edges]
    assert (p, "f:never") in pairs and ("p:ghost", entity_id(NS, "Alpha 0")) in pairs
    assert len(pairs) == len(set(pairs)) == counts["edges"]
    assert "ghost1" not in text
    # The ghost's edge comes after the source-grouped edges, and the output stays stable.
    assert pairs[-1] == ("p:ghost", entity_id(NS, "Alpha 0"))
    assert export_text(store, batch=5)[0] == text


class Recording:
    """A store that records how many ids each read asks for, and can fail edges_of."""

    def __init__(self, store: Store, fail: bool = False) -> None:
        self.store, self.fail = store, fail
        self.sizes: list[int] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.store, name)
        if not name.startswith(("get_", "edges_of", "existing_")):
            return attr

        def call(ns: str, ids: Sequence[str], *args: Any) -> Any:
            if self.fail and name == "edges_of":
                raise StoreError("the server went away")
            self.sizes.append(len(ids))
            return attr(ns, ids, *args)

        return call

    def list_ids(self, ns: str, kind: Any, *, after: str | None = None, limit: int = 1000) -> Any:
        self.sizes.append(limit)
        return self.store.list_ids(ns, kind, after=after, limit=limit)


def test_reads_stay_within_the_batch(store: Store) -> None:
    rec = Recording(store)
    counts = export_namespace(rec, NS, io.StringIO(), batch=3)  # type: ignore[arg-type]
    assert rec.sizes and max(rec.sizes) <= 3
    assert counts == export_text(store)[1]


def test_a_failed_export_leaves_the_old_file(store: Store, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "export.jsonl"
    path.write_text("old\n")
    with pytest.raises(StoreError, match="went away"):
        export_namespace(Recording(store, fail=True), NS, path)  # type: ignore[arg-type]
    assert path.read_text() == "old\n"
    assert [p.name for p in path.parent.iterdir()] == ["export.jsonl"]


@pytest.mark.parametrize("batch", [0, -1, 10_001, True, 2.5, "10"])
def test_a_bad_batch_is_refused_before_anything_is_written(
    store: Store, tmp_path: Path, batch: Any
) -> None:
    path = tmp_path / "x.jsonl"
    with pytest.raises(InputError, match="batch") as info:
        export_namespace(store, NS, path, batch=batch)
    assert info.value.field == "batch"
    assert not path.exists()


def test_states_and_recorded_history_are_exported(store: Store) -> None:
    ids = store.list_ids(NS, "passage", limit=2)
    at = datetime(2024, 5, 1, tzinfo=UTC)
    store.record_lifecycle(
        NS,
        [
            LifecycleEvent(
                node_id=ids[0], kind="passage", event="archived", state="archived", at=at
            ),
            LifecycleEvent(node_id=ids[1], kind="passage", event="merged", state="merged", at=at),
            LifecycleEvent(node_id=ids[0], kind="passage", event="restored", state="active", at=at),
            LifecycleEvent(node_id=ids[1], kind="passage", event="x", state="archived", at=at),
        ],
    )
    text, counts = export_text(store, batch=1)
    rows = lines(text)
    states = {r["data"]["id"]: r["state"] for r in rows if r["type"] == "node"}
    assert states[ids[0]] == "active" and states[ids[1]] == "archived"
    events = [r["event"] for r in rows if r["type"] == "lifecycle"]
    assert counts["lifecycle"] == len(events) == 4
    assert rows[-4:] == [r for r in rows if r["type"] == "lifecycle"]  # last
    assert [(e["node_id"], e["event"]) for e in events] == [
        (ids[0], "archived"),
        (ids[0], "restored"),
        (ids[1], "merged"),
        (ids[1], "x"),
    ]
    assert LifecycleEvent.model_validate(events[0]).at == at
