"""Data the store contract tests write: small documents, their batches, and graph helpers."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from graphmem.ids import (
    entity_id,
    event_id,
    fact_id,
    hyperedge_id,
    normalize_name,
    passage_id,
)
from graphmem.models import (
    Edge,
    Entity,
    Event,
    Fact,
    Hyperedge,
    Passage,
)
from graphmem.store.base import Store, Vector, WriteBatch, embed_key, embed_text
from graphmem.store.graph import GraphView, ppr_edges

MODEL = "contract-model"
DIM = 8
T0 = datetime(2024, 1, 1, tzinfo=UTC)

Triple = tuple[str, str, str]
NS = Callable[[str], str]


def vec(text: str) -> Vector:
    """A deterministic pseudo-random vector for a text."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).normal(size=DIM).astype(np.float32)


def ent(ns: str, name: str, aliases: Iterable[str] = ()) -> Entity:
    return Entity(
        id=entity_id(ns, name),
        name=name,
        normalized=normalize_name(name),
        aliases=list(aliases),
        namespace=ns,
    )


def fact(ns: str, s: str, p: str, o: str, **kw: object) -> Fact:
    return Fact(
        id=fact_id(ns, s, p, o),
        subject=entity_id(ns, s),
        predicate=p,
        object=entity_id(ns, o),
        text=f"{s} {p} {o}",
        namespace=ns,
        created_at=T0,
        **kw,  # type: ignore[arg-type]
    )


def passage(ns: str, text: str, source: str | None, **kw: object) -> Passage:
    return Passage(
        id=passage_id(ns, text), text=text, source=source, namespace=ns, created_at=T0, **kw
    )  # type: ignore[arg-type]


def with_vectors(batch: WriteBatch) -> WriteBatch:
    """Give every node of ``batch`` its (deterministic) embedding."""
    batch.embedding_model = MODEL
    for node in batch.nodes():
        batch.vectors[embed_key(node)] = vec(embed_text(node))
    return batch


def doc_batch(ns: str, docs: list[tuple[str, str, list[Triple]]]) -> WriteBatch:
    """A batch as ingestion writes it: (source, text, triples) -> passage, entities, facts,
    MENTIONS and STATES edges, and vectors."""
    batch = WriteBatch(namespace=ns)
    seen: set[str] = set()
    for source, text, triples in docs:
        p = passage(ns, text, source)
        batch.passages.append(p)
        for s, pred, o in triples:
            f = fact(ns, s, pred, o)
            batch.facts.append(f)
            batch.edges.append(Edge(type="STATES", src=p.id, dst=f.id, namespace=ns))
            for name in (s, o):
                e = ent(ns, name)
                if e.id not in seen:
                    seen.add(e.id)
                    batch.entities.append(e)
                batch.edges.append(Edge(type="MENTIONS", src=p.id, dst=e.id, namespace=ns))
    return with_vectors(batch)


DOCS: list[tuple[str, str, list[Triple]]] = [
    (
        "doc1",
        "Alice works at Acme. Acme is in Paris.",
        [("Alice", "works at", "Acme"), ("Acme", "located in", "Paris")],
    ),
    (
        "doc2",
        "Alice, an engineer, works at Acme. Bob knows Carol.",
        [("Alice", "works at", "Acme"), ("Bob", "knows", "Carol")],
    ),
    ("doc3", "Paris, France is the capital of France.", [("Paris France", "capital of", "France")]),
]


def graph_weights(view: GraphView) -> dict[frozenset[str], float]:
    """Undirected edge weights of a graph view, keyed by the node-id pair."""
    coo = view.matrix().tocoo()
    out: dict[frozenset[str], float] = {}
    for i, j, w in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True):
        if i <= j:
            out[frozenset((view.node_id(i), view.node_id(j)))] = round(float(w), 6)
    return out


def expected_weights(facts: Iterable[Fact], edges: Iterable[Edge]) -> dict[frozenset[str], float]:
    """What the graph must hold: ppr_edges of the stored facts and edges, summed per pair."""
    out: dict[frozenset[str], float] = {}
    for s, d, w in ppr_edges(facts, edges):
        key = frozenset((s, d))
        out[key] = out.get(key, 0.0) + w
    return {k: round(v, 6) for k, v in out.items()}


def stored(store: Store, ns: str, batch: WriteBatch) -> tuple[list[Fact], list[Edge]]:
    """The facts and edges the store holds now among those ``batch`` named."""
    facts = list(store.get_facts(ns, [f.id for f in batch.facts]).values())
    ids = (
        {n.id for n in batch.nodes()} | {e.src for e in batch.edges} | {e.dst for e in batch.edges}
    )
    return facts, store.edges_of(ns, sorted(ids))


def edge_keys(edges: Iterable[Edge]) -> set[tuple[str, str, str]]:
    return {(e.type, e.src, e.dst) for e in edges}


@dataclass
class World:
    ns: str
    batch: WriteBatch
    ev: Event
    he: Hyperedge


def build_world(store: Store, ns: str) -> World:
    batch = doc_batch(ns, DOCS)
    p1, p2 = batch.passages[0].id, batch.passages[1].id
    # Eve is mentioned by doc1 only, but is a member of a hyperedge doc2 states: she stays.
    eve, dave = ent(ns, "Eve"), ent(ns, "Dave")
    he = Hyperedge(
        id=hyperedge_id(ns, "team", "eve"),
        description="Eve's team at Acme",
        kind="team",
        members=[eve.id, entity_id(ns, "Acme")],
        namespace=ns,
    )
    # An event only doc1 states: it goes, and so do its INVOLVES edges.
    ev = Event(
        id=event_id(ns, "Acme moved to Paris", None),
        description="Acme moved to Paris",
        participants=[entity_id(ns, "Acme"), entity_id(ns, "Paris")],
        namespace=ns,
    )
    # Dave is nobody's mention but the object of a fact doc2 states: he stays.
    f_dave = fact(ns, "Bob", "manages", "Dave")
    batch.entities += [eve, dave]
    batch.facts.append(f_dave)
    batch.hyperedges.append(he)
    batch.events.append(ev)
    batch.edges += [
        Edge(type="MENTIONS", src=p1, dst=eve.id, namespace=ns),
        Edge(type="STATES", src=p2, dst=f_dave.id, namespace=ns),
        Edge(type="STATES", src=p2, dst=he.id, namespace=ns),
        Edge(type="CONNECTS", src=he.id, dst=eve.id, namespace=ns),
        Edge(type="CONNECTS", src=he.id, dst=entity_id(ns, "Acme"), namespace=ns),
        Edge(type="STATES", src=p1, dst=ev.id, namespace=ns),
        Edge(type="INVOLVES", src=ev.id, dst=entity_id(ns, "Acme"), namespace=ns),
        Edge(type="INVOLVES", src=ev.id, dst=entity_id(ns, "Paris"), namespace=ns),
        Edge(
            type="SYNONYM",
            src=entity_id(ns, "Paris"),
            dst=entity_id(ns, "Paris France"),
            weight=0.85,
            namespace=ns,
        ),
    ]
    store.write(with_vectors(batch))
    return World(ns, batch, ev, he)
