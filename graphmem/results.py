"""Turning what retrieval found into what users read: :class:`SearchResult` and neighbour lists.

Free functions over a store, so :class:`graphmem.Memory`, the explainer and the API format the
same way.

>>> node_kind("ep:3f2a"), node_kind("e:ada"), node_kind("x")
('episode', 'entity', 'node')
"""

from __future__ import annotations

from collections.abc import Sequence

from graphmem.models import (
    EntityHit,
    FactHit,
    Neighbor,
    PassageHit,
    SearchResult,
)
from graphmem.retrieve.hippo import Retrieval
from graphmem.store.base import Store

_KINDS = {
    "p": "passage",
    "e": "entity",
    "f": "fact",
    "v": "event",
    "h": "hyperedge",
    "ep": "episode",
}
#: how many of the highest-scored entities a result lists
TOP_ENTITIES = 10


def node_kind(node_id: str) -> str:
    """The kind of node an id names, from its prefix (``"node"`` when unknown)."""
    return _KINDS.get(node_id.split(":", 1)[0], "node")


def format_result(store: Store, namespace: str, question: str, found: Retrieval) -> SearchResult:
    """The passages of ``found`` with their scores, the facts that linked them and the entity path.

    A passage's facts are the stored facts it states that touch a seed entity or matched the
    question, best first; its path is the seed entities those facts go through.
    """
    ns = namespace
    pids = [pid for pid, _ in found.passages]
    passages = store.get_passages(ns, pids)
    by_passage = store.facts_of_passages(ns, pids)
    fact_ids = {f for fs in by_passage.values() for f in fs} | {f for f, _ in found.facts}
    facts = store.get_facts(ns, sorted(fact_ids))
    names_needed = {f.subject for f in facts.values()} | {f.object for f in facts.values()}
    top_entities = found.top("e:", TOP_ENTITIES)
    names_needed |= {e for e, _ in top_entities} | set(found.seeds)
    entities = store.get_entities(ns, sorted(n for n in names_needed if n.startswith("e:")))

    def name(eid: str) -> str:
        ent = entities.get(eid)
        return ent.name if ent else eid

    matched = dict(found.facts)

    def fact_hit(fid: str) -> FactHit | None:
        f = facts.get(fid)
        if f is None:
            return None
        score = matched.get(fid)
        if score is None:
            score = found.node_scores.get(f.subject, 0.0) + found.node_scores.get(f.object, 0.0)
        return FactHit(
            fact=f, score=score, subject_name=name(f.subject), object_name=name(f.object)
        )

    hits: list[PassageHit] = []
    for pid, score in found.passages:
        passage = passages.get(pid)
        if passage is None:
            continue
        linked = [
            h
            for h in (fact_hit(fid) for fid in by_passage.get(pid, []))
            if h is not None
            and (
                h.fact.subject in found.seeds
                or h.fact.object in found.seeds
                or h.fact.id in matched
            )
        ]
        linked.sort(key=lambda h: -h.score)
        path: list[str] = []
        for h in linked[:3]:
            for eid in (h.fact.subject, h.fact.object):
                if eid in found.seeds and name(eid) not in path:
                    path.append(name(eid))
        hits.append(
            PassageHit(
                passage=passage,
                score=score,
                dense_score=found.dense.get(pid),
                facts=linked[:5],
                path=path,
            )
        )
    fact_hits = [h for h in (fact_hit(fid) for fid, _ in found.facts) if h is not None]
    entity_hits = [
        EntityHit(entity=entities[eid], score=s) for eid, s in top_entities if eid in entities
    ]
    return SearchResult(
        question=question, passages=hits, facts=fact_hits, entities=entity_hits, mode=found.mode
    )


def neighbors(store: Store, namespace: str, node_id: str, *, limit: int = 50) -> list[Neighbor]:
    """Nodes one edge (or, from an entity, one fact) away from ``node_id``, strongest first."""
    ns = namespace
    out: list[Neighbor] = []
    if node_id.startswith("e:"):
        for f in store.facts_between(ns, [node_id]):
            other, direction = (f.object, "out") if f.subject == node_id else (f.subject, "in")
            out.append(_neighbor(other, "entity", f.text, "RELATES", f.confidence, direction))
    for e in store.edges_of(ns, [node_id]):
        other, direction = (e.dst, "out") if e.src == node_id else (e.src, "in")
        out.append(_neighbor(other, node_kind(other), other, e.type, e.weight, direction))
    labels = node_labels(store, ns, [n.id for n in out if n.edge_type != "RELATES"])
    for n in out:
        if n.edge_type != "RELATES":
            n.label = labels.get(n.id, n.id)
    out.sort(key=lambda n: (-n.weight, n.id))
    return out[:limit]


def _neighbor(
    node_id: str, kind: str, label: str, edge_type: str, weight: float, direction: str
) -> Neighbor:
    # validated, so an unexpected kind or direction fails here and not in a client
    return Neighbor.model_validate(
        {"id": node_id, "kind": kind, "label": label, "edge_type": edge_type, "weight": weight,
         "direction": direction}
    )  # fmt: skip


def node_labels(store: Store, namespace: str, ids: Sequence[str]) -> dict[str, str]:
    """A short human label for each id that exists: a name, a title, a description or text."""
    ns = namespace
    labels: dict[str, str] = {}
    ents = store.get_entities(ns, [i for i in ids if i.startswith("e:")])
    labels.update({i: e.name for i, e in ents.items()})
    pas = store.get_passages(ns, [i for i in ids if i.startswith("p:")])
    labels.update({i: (p.title or p.text[:80]) for i, p in pas.items()})
    facts = store.get_facts(ns, [i for i in ids if i.startswith("f:")])
    labels.update({i: f.text for i, f in facts.items()})
    eps = store.get_episodes(ns, [i for i in ids if i.startswith("ep:")])
    labels.update({i: e.text[:80] for i, e in eps.items()})
    hyper = store.get_hyperedges(ns, [i for i in ids if i.startswith("h:")])
    labels.update({i: h.description[:80] for i, h in hyper.items()})
    return labels
