"""A :class:`graphmem.models.SearchResult` as the GraphQL ``SearchResult``: its hits, the kinds
the request included, and the subgraph the hits and their facts form.
"""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.scalars import JSON

from graphmem import models as m
from graphmem_api import types as t


def _fact_hit(h: m.FactHit) -> t.FactHit:
    return t.FactHit(
        fact=t.to_fact(h.fact),
        score=h.score,
        relevance=h.relevance,
        subject_name=h.subject_name,
        object_name=h.object_name,
    )


def subgraph(result: m.SearchResult) -> t.Subgraph:
    """The nodes and edges behind a result, from the result alone (no store call)."""
    nodes: dict[str, t.SubgraphNode] = {}
    edges: dict[tuple[str, str, str], t.SubgraphEdge] = {}

    def node(node_id: str, kind: str, label: str, score: float | None = None) -> None:
        have = nodes.get(node_id)
        if have is None:
            nodes[node_id] = t.SubgraphNode(
                id=strawberry.ID(node_id), kind=kind, label=label, score=score
            )
        elif score is not None and (have.score is None or score > have.score):
            have.score = score

    def edge(src: str, dst: str, kind: str, label: str, weight: float, fact: str | None) -> None:
        edges.setdefault(
            (src, dst, fact or kind),
            t.SubgraphEdge(
                source=strawberry.ID(src),
                target=strawberry.ID(dst),
                type=kind,
                label=label,
                weight=weight,
                fact_id=strawberry.ID(fact) if fact else None,
            ),
        )

    def fact(h: m.FactHit, via: str | None) -> None:
        f = h.fact
        node(f.subject, "entity", h.subject_name)
        node(f.object, "entity", h.object_name)
        edge(f.subject, f.object, "RELATES", f.predicate, h.score, f.id)
        if via is not None:
            edge(via, f.subject, "STATES", f.text, 1.0, f.id)

    for ph in result.passages:
        p = ph.passage
        node(p.id, "passage", p.title or p.text[:80], ph.score)
        for fh in ph.facts:
            fact(fh, p.id)
    for fh in result.facts:
        fact(fh, None)
    for eh in result.entities:
        node(eh.entity.id, "entity", eh.entity.name, eh.score)
    for hh in result.hyperedges:
        h = hh.hyperedge
        node(h.id, "hyperedge", h.description[:80], hh.score)
        for member in h.members:
            node(member, "entity", member)
            edge(h.id, member, "CONNECTS", h.kind, 1.0, None)
    for xh in result.episodes:
        ep = xh.episode
        node(ep.id, "episode", ep.text[:80], xh.score)
        for fh in xh.facts:
            fact(fh, None)
            edge(ep.id, fh.fact.subject, "EVIDENCE", fh.fact.text, 1.0, fh.fact.id)
    return t.Subgraph(nodes=list(nodes.values()), edges=list(edges.values()))


def to_search_result(result: m.SearchResult, include: tuple[t.Include, ...]) -> t.SearchResult:
    keep = set(include)
    return t.SearchResult(
        question=result.question,
        passages=[
            t.PassageHit(
                passage=t.to_passage(h.passage),
                score=h.score,
                dense_score=h.dense_score,
                relevance=h.relevance,
                facts=[_fact_hit(f) for f in h.facts],
                path=list(h.path),
            )
            for h in result.passages
        ]
        if t.Include.PASSAGES in keep
        else [],
        facts=[_fact_hit(f) for f in result.facts] if t.Include.FACTS in keep else [],
        entities=[
            t.EntityHit(entity=t.to_entity(h.entity), score=h.score, relevance=h.relevance)
            for h in result.entities
        ]
        if t.Include.ENTITIES in keep
        else [],
        hyperedges=[
            t.HyperedgeHit(
                hyperedge=t.to_hyperedge(h.hyperedge), score=h.score, relevance=h.relevance
            )
            for h in result.hyperedges
        ]
        if t.Include.HYPEREDGES in keep
        else [],
        episodes=[
            t.EpisodeHit(
                episode=t.to_episode(h.episode),
                score=h.score,
                relevance=h.relevance,
                facts=[_fact_hit(f) for f in h.facts],
                context=[t.to_episode(e) for e in h.context] if t.Include.CONTEXT in keep else [],
            )
            for h in result.episodes
        ]
        if t.Include.EPISODES in keep
        else [],
        mode=result.mode,
        confidence=result.confidence,
        answerable=result.answerable,
        timings_ms=cast(JSON, dict(result.timings_ms)),
        subgraph=subgraph(result),
    )
