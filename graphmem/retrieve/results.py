"""Turning what retrieval found into what users read: :class:`SearchResult` parts and neighbours.

Free functions over a store, so :mod:`graphmem.retrieve.search` (behind ``Memory.search``, the
explainer and the API) formats the same way, and ``Memory.neighbors`` and the API's loaders walk
the same adjacency (:func:`links`) and read nodes the same way (:func:`nodes`).

>>> node_kind("ep:3f2a"), node_kind("e:ada"), node_kind("x")
('episode', 'entity', 'node')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from graphmem.ids import (
    ENTITY,
    EPISODE,
    FACT,
    HYPEREDGE,
    PASSAGE,
    entity_id,
    is_kind,
    node_kind,
    of_kind,
)
from graphmem.models import (
    Entity,
    EntityHit,
    Episode,
    EpisodeHit,
    Event,
    Fact,
    FactHit,
    Hyperedge,
    HyperedgeHit,
    Neighbor,
    Passage,
    PassageHit,
    SearchResult,
)
from graphmem.models import FactWording as FactWording
from graphmem.models import Link as Link
from graphmem.models import day as day
from graphmem.models import fact_wording as fact_wording
from graphmem.models import validity as validity
from graphmem.retrieve.base import Retrieval
from graphmem.store.base import Store, own_episode
from graphmem.validity import is_current

if TYPE_CHECKING:
    from graphmem.retrieve.episodes import EpisodeRetrieval

__all__ = [
    "FactWording",
    "Link",
    "day",
    "episode_hits",
    "fact_hits",
    "fact_wording",
    "facts_of",
    "format_result",
    "links",
    "neighbors",
    "node_kind",
    "node_labels",
    "nodes",
    "order_facts",
    "unit_hits",
    "validity",
]

#: how many of the highest-scored entities a result lists
TOP_ENTITIES = 10


_WORD = re.compile(r"\w+")


def _named(question: str, names: set[str]) -> set[str]:
    """The names the question says as whole words, a longer name winning over one inside it
    ("Ada's sister" is named in "Where does Ada's sister live?", and not "Ada")."""
    words = [w.casefold() for w in _WORD.findall(question)]
    spans: dict[str, list[tuple[int, int]]] = {}
    for name in names:
        target = [w.casefold() for w in _WORD.findall(name)]
        n = len(target)
        if n:
            hits = [(i, i + n) for i in range(len(words) - n + 1) if words[i : i + n] == target]
            if hits:
                spans[name] = hits
    covered = [span for hits in spans.values() for span in hits]
    return {
        name
        for name, hits in spans.items()
        if any(not any(c <= a and b <= d and d - c > b - a for c, d in covered) for a, b in hits)
    }


def order_facts(question: str, facts: list[FactHit], *, now: bool) -> None:
    """Sort ``facts`` in place: for a question about now (``now``), facts that still hold first;
    then, within each group, facts about an entity the question names (its subject or object)
    first. The sort is stable: the retrieval's order stays within each group."""
    named = _named(question, {n for h in facts for n in (h.subject_name, h.object_name)})

    def key(h: FactHit) -> tuple[bool, bool]:
        about = bool(named & {h.subject_name, h.object_name})
        return (now and not is_current(h.fact), not about)

    facts.sort(key=key)


def format_result(store: Store, namespace: str, question: str, found: Retrieval) -> SearchResult:
    """The passages of ``found`` with their scores, the facts that linked them and the entity path.

    A passage's facts are the stored facts it states that touch a seed entity or matched the
    question, best first; its path is the seed entities those facts go through.
    """
    ns = namespace
    pids = [pid for pid, _ in found.hits]
    passages = store.get_passages(ns, pids)
    by_passage = store.facts_of_passages(ns, pids)
    fact_ids = {f for fs in by_passage.values() for f in fs} | {f for f, _ in found.facts}
    facts = store.get_facts(ns, sorted(fact_ids))
    matched = dict(found.facts)

    def score(f: Fact) -> float:
        s = matched.get(f.id)
        if s is None:
            s = found.node_scores.get(f.subject, 0.0) + found.node_scores.get(f.object, 0.0)
        return s

    # Each passage shows its 5 best linked facts: only those (and the matched ones) are made
    # into hits and need their entities' names, not every fact the passages state.
    shown: dict[str, list[Fact]] = {}
    for pid in pids:
        linked = [
            f
            for f in (facts.get(fid) for fid in by_passage.get(pid, []))
            if f is not None
            and (f.subject in found.seeds or f.object in found.seeds or f.id in matched)
        ]
        linked.sort(key=lambda f: -score(f))
        shown[pid] = linked[:5]
    matched_facts = [facts[fid] for fid, _ in found.facts if fid in facts]
    top_entities = found.top(ENTITY, TOP_ENTITIES)
    names_needed = {
        e for fs in (*shown.values(), matched_facts) for f in fs for e in (f.subject, f.object)
    }
    names_needed |= {e for e, _ in top_entities}
    entities = store.get_entities(ns, sorted(of_kind(names_needed, ENTITY)))

    def name(eid: str) -> str:
        ent = entities.get(eid)
        return ent.name if ent else eid

    def fact_hit(f: Fact) -> FactHit:
        return FactHit(
            fact=f, score=score(f), subject_name=name(f.subject), object_name=name(f.object)
        )

    hits: list[PassageHit] = []
    for pid, pscore in found.hits:
        passage = passages.get(pid)
        if passage is None:
            continue
        linked_hits = [fact_hit(f) for f in shown.get(pid, [])]
        path: list[str] = []
        for h in linked_hits[:3]:
            for eid in (h.fact.subject, h.fact.object):
                if eid in found.seeds and name(eid) not in path:
                    path.append(name(eid))
        hits.append(
            PassageHit(
                passage=passage,
                score=pscore,
                dense_score=found.dense.get(pid),
                facts=linked_hits,
                path=path,
            )
        )
    entity_hits = [
        EntityHit(entity=entities[eid], score=s) for eid, s in top_entities if eid in entities
    ]
    return SearchResult(
        question=question,
        passages=hits,
        facts=[fact_hit(f) for f in matched_facts],
        entities=entity_hits,
        mode=found.mode,
    )


def fact_hits(
    store: Store,
    namespace: str,
    facts: Sequence[tuple[str, float]],
    read: Mapping[str, Fact] | None = None,
) -> list[FactHit]:
    """Facts (id, score) as :class:`FactHit` models with their entities' names (``read``: rows
    the caller has already read; the others are read here)."""
    rows = dict(read or {})
    missing = [f for f, _ in facts if f not in rows]
    if missing:
        rows.update(store.get_facts(namespace, missing))
    ents = store.get_entities(
        namespace, sorted({e for f in rows.values() for e in (f.subject, f.object)})
    )
    out = []
    for fid, score in facts:
        f = rows.get(fid)
        if f is not None:
            s, o = ents.get(f.subject), ents.get(f.object)
            out.append(
                FactHit(
                    fact=f,
                    score=score,
                    subject_name=s.name if s else f.subject,
                    object_name=o.name if o else f.object,
                )
            )
    return out


def episode_hits(
    store: Store,
    namespace: str,
    found: EpisodeRetrieval,
    context: bool,
    evidence: Sequence[FactHit] | None = None,
) -> list[EpisodeHit]:
    """The ranked episodes as :class:`EpisodeHit` models (with context episodes, if asked);
    ``evidence``: ``found.facts`` as hits, when the caller has made them."""
    if evidence is None:
        evidence = fact_hits(store, namespace, found.facts, found.fact_rows)
    facts = {h.fact.id: h for h in evidence}
    around: dict[str, Episode] = {}
    if context:
        need = sorted({c for cs in found.context.values() for c in cs} - set(found.rows))
        around = {**found.rows, **store.get_episodes(namespace, need)}
    hits = []
    for eid, score in found.hits:
        ep = found.rows.get(eid)
        if ep is None:
            continue
        ctx = sorted(
            (_own(around[c]) for c in found.context.get(eid, []) if c in around),
            key=lambda e: (e.time, e.metadata.get("seq", 0), e.id),
        )
        ev = [facts[f] for f in dict.fromkeys(found.evidence.get(eid, [])) if f in facts]
        hits.append(EpisodeHit(episode=_own(ep), score=score, facts=ev, context=ctx))
    return hits


def _own(ep: Episode) -> Episode:
    """A copy for the result: the ranking may have read the store's own (lent) episode."""
    return own_episode(ep)


def unit_hits(store: Store, namespace: str, found: Retrieval) -> list[HyperedgeHit]:
    """The ranked hyperedges as :class:`HyperedgeHit` models."""
    rows = store.get_hyperedges(namespace, [h for h, _ in found.hits])
    return [HyperedgeHit(hyperedge=rows[h], score=s) for h, s in found.hits if h in rows]


def links(store: Store, namespace: str, ids: Sequence[str]) -> dict[str, list[Link]]:
    """Every node one edge away from each of ``ids``, in two store calls for all of them.

    An entity's facts (``RELATES``, weighted by the fact's confidence, labelled by its text) and
    every stored edge touching the node; a node is not its own neighbour (self-loops are left
    out, as the PageRank graph leaves them out).
    """
    ns = namespace
    wanted = set(ids)
    out: dict[str, list[Link]] = {i: [] for i in ids}
    entity_ids = of_kind(ids, ENTITY)
    if entity_ids:
        for f in store.facts_between(ns, entity_ids):
            ends: tuple[tuple[str, str, Literal["out", "in"]], ...] = (
                (f.subject, f.object, "out"),
                (f.object, f.subject, "in"),
            )
            for me, other, direction in ends:
                if me in wanted and other != me:
                    out[me].append(
                        Link(me, other, "RELATES", f.confidence, direction, f.id, f.id, f.text)
                    )
    for e in store.edges_of(ns, list(ids)):
        key = f"{e.type}:{e.src}:{e.dst}"
        if e.src in wanted and e.dst != e.src:
            out[e.src].append(Link(e.src, e.dst, e.type, e.weight, "out", key))
        if e.dst in wanted and e.dst != e.src:
            out[e.dst].append(Link(e.dst, e.src, e.type, e.weight, "in", key))
    return out


def facts_of(store: Store, namespace: str, entity: str) -> list[Fact]:
    """The facts an entity (id or name) takes part in that memory has not superseded, those
    that hold first (then by text): ``Memory.facts_of``."""
    eid = entity if is_kind(entity, ENTITY) else entity_id(namespace, entity)
    found = [f for f in store.facts_between(namespace, [eid]) if f.expired_at is None]
    return sorted(found, key=lambda f: (f.invalid_at is not None, f.text))


def nodes(
    store: Store, namespace: str, ids: Sequence[str]
) -> dict[str, Passage | Entity | Fact | Event | Hyperedge | Episode]:
    """The stored nodes among ``ids``, by id (one store call per kind; unknown ids left out)."""
    by_kind: dict[str, list[str]] = {}
    for i in ids:
        by_kind.setdefault(node_kind(i), []).append(i)
    getters: dict[str, Callable[[str, Sequence[str]], Mapping[str, Any]]] = {
        "passage": store.get_passages,
        "entity": store.get_entities,
        "fact": store.get_facts,
        "event": store.get_events,
        "hyperedge": store.get_hyperedges,
        "episode": store.get_episodes,
    }
    found: dict[str, Passage | Entity | Fact | Event | Hyperedge | Episode] = {}
    for kind, wanted in by_kind.items():
        getter = getters.get(kind)
        if getter is not None:
            found.update(getter(namespace, wanted))
    return found


def neighbors(store: Store, namespace: str, node_id: str, *, limit: int = 50) -> list[Neighbor]:
    """Nodes one edge (or, from an entity, one fact) away from ``node_id``, strongest first."""
    found = links(store, namespace, [node_id])[node_id]
    labels = node_labels(store, namespace, [n.id for n in found if n.label is None])
    out = [
        _neighbor(
            n.id,
            "entity" if n.fact_id is not None else node_kind(n.id),
            n.label if n.label is not None else labels.get(n.id, n.id),
            n.edge_type,
            n.weight,
            n.direction,
        )
        for n in found
    ]
    out.sort(key=lambda n: (-n.weight, n.id))
    return out[:limit]


def _neighbor(
    node_id: str, kind: str, label: str, edge_type: str, weight: float, direction: str
) -> Neighbor:
    # validated, so an unexpected kind or direction fails here and not in a client
    return Neighbor.model_validate(
        {
            "id": node_id,
            "kind": kind,
            "label": label,
            "edge_type": edge_type,
            "weight": weight,
            "direction": direction,
        }
    )


def node_labels(store: Store, namespace: str, ids: Sequence[str]) -> dict[str, str]:
    """A short human label for each id that exists: a name, a title, a description or text."""
    ns = namespace
    labels: dict[str, str] = {}
    ents = store.get_entities(ns, of_kind(ids, ENTITY))
    labels.update({i: e.name for i, e in ents.items()})
    pas = store.get_passages(ns, of_kind(ids, PASSAGE))
    labels.update({i: (p.title or p.text[:80]) for i, p in pas.items()})
    facts = store.get_facts(ns, of_kind(ids, FACT))
    labels.update({i: f.text for i, f in facts.items()})
    eps = store.get_episodes(ns, of_kind(ids, EPISODE))
    labels.update({i: e.text[:80] for i, e in eps.items()})
    hyper = store.get_hyperedges(ns, of_kind(ids, HYPEREDGE))
    labels.update({i: h.description[:80] for i, h in hyper.items()})
    return labels
