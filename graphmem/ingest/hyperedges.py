"""HGMem hyperedges: n-ary memory units, built on ingest, merged and stored long-term.

A :class:`~graphmem.models.Hyperedge` joins several entities under one description:

- ``kind="event"``: an extracted event with at least two participants;
- ``kind="sentence"``: one sentence of a passage (of an episode too, with ``from_turns``)
  naming at least ``min_members`` (default 3) of the entities extracted from it (a name, or an
  alias, found as whole words);
- ``kind="note"``: a note a user adds (:func:`note_unit`, ``Memory.add_note``).

Each has an embedding (of its description), its members (``CONNECTS`` edges, which put it in the
PageRank graph between its members) and its provenance (``STATES`` edges from the passages and
episodes it came from, so deleting a source deletes what only it supported).

**Merge rule.** A new unit merges into a stored (or earlier new) one when their member sets overlap
with Jaccard >= ``merge_jaccard`` (0.5) *and* their descriptions' embeddings have cosine >=
``merge_cosine`` (0.85). The merged unit keeps the older id and description (so its embedding stays
right), gains the union of members (new ``CONNECTS`` edges) and keeps the provenance of both (the
new source's ``STATES`` edge points at it). The same sentence seen again is the same unit (its id
hashes the normalized description).

At search time units are ranked by :func:`graphmem.retrieve.hyperedges.retrieve_units`.

>>> sentences("Ada met Bob. They went to Paris! Why?")
['Ada met Bob.', 'They went to Paris!', 'Why?']
>>> jaccard({"a", "b", "c"}, {"b", "c", "d"})
0.5
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from graphmem.ids import ENTITY, HYPEREDGE, hyperedge_id, is_kind, normalize_name
from graphmem.models import Edge, Entity, Hyperedge, IngestReport
from graphmem.store.base import AnyNode, Store, Vector, WriteBatch, embed_key, embed_text

if TYPE_CHECKING:
    from graphmem.embed.base import Embedder

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\n+")


@dataclass(frozen=True)
class HyperSettings:
    """How hyperedges are built and merged (see the module docstring)."""

    enabled: bool = True
    from_events: bool = True
    from_sentences: bool = True
    #: ... the sentences of episodes (turns) too. Off: on the LongMemEval slice (12 histories)
    #: every ranking was identical without them, on locomo_dev R@10 and each category were
    #: unchanged (R@5 -0.3), and embedding them cost 12-17% of a chat's ingest
    from_turns: bool = False
    #: a sentence becomes a unit when it names at least this many extracted entities
    min_members: int = 3
    #: ... and at most this many (a long list of names is an enumeration, not one unit)
    max_members: int = 12
    merge_jaccard: float = 0.5
    merge_cosine: float = 0.85
    #: weight of each CONNECTS edge in the PageRank graph. Light, so units refine the walk
    #: rather than reroute it: on musique_train (precomputed triples, 4,322 sentence units) passage
    #: Recall@2/@5 vs no units: weight 1.0 -0.3/-0.2, 0.5 +0.2/-1.0, 0.3 +1.0/-0.5, 0.1 +0.5/0.0
    member_weight: float = 0.1


def sentences(text: str) -> list[str]:
    """Split ``text`` into sentences (punctuation followed by a capital, or a line break)."""
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def jaccard(a: set[str], b: set[str]) -> float:
    """|a ∩ b| / |a ∪ b| (0 for two empty sets)."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def _names_in(sentence: str, names: dict[str, str]) -> list[str]:
    """Entity ids whose normalized name occurs in ``sentence`` as whole words."""
    padded = f" {normalize_name(sentence)} "
    found: list[str] = []
    for name, eid in names.items():
        if f" {name} " in padded and eid not in found:
            found.append(eid)
    return found


def ensure_vectors(
    store: Store, embedder: Embedder, batch: WriteBatch, nodes: Iterable[AnyNode]
) -> dict[str, Vector]:
    """Vectors of ``nodes`` by embed key: from ``batch``, the store's cache, or embedded now."""
    want: dict[str, str] = {}
    for node in nodes:
        want.setdefault(embed_key(node), embed_text(node))
    out: dict[str, Vector] = {k: batch.vectors[k] for k in want if k in batch.vectors}
    rest = [k for k in want if k not in out]
    if rest:
        out.update(store.cached_vectors(embedder.name, rest))
    missing = [k for k in want if k not in out]
    if missing:
        fresh = embedder.embed([want[k] for k in missing], kind="passage")
        for k, vec in zip(missing, fresh, strict=True):
            out[k] = vec
            batch.vectors[k] = vec
        batch.embedding_model = batch.embedding_model or embedder.name
    return out


def candidate_units(batch: WriteBatch, settings: HyperSettings) -> list[tuple[Hyperedge, str]]:
    """The units ``batch``'s events and sentences make, each with the id of its source node."""
    ns = batch.namespace
    ents: dict[str, Entity] = {e.id: e for e in batch.entities}
    linked: dict[str, list[str]] = {}
    for edge in batch.edges:
        if edge.type in ("MENTIONS", "EVIDENCE") and is_kind(edge.dst, ENTITY):
            linked.setdefault(edge.src, []).append(edge.dst)
    out: list[tuple[Hyperedge, str]] = []
    if settings.from_events:
        stated_by = {e.dst: e.src for e in batch.edges if e.type in ("STATES", "EVIDENCE")}
        for ev in batch.events:
            members = list(dict.fromkeys(ev.participants))
            src = stated_by.get(ev.id)
            if len(members) >= 2 and src is not None and len(members) <= settings.max_members:
                hid = hyperedge_id(ns, "event", ev.id)
                out.append(
                    (
                        Hyperedge(
                            id=hid,
                            namespace=ns,
                            description=ev.description,
                            kind="event",
                            members=members,
                        ),
                        src,
                    )
                )
    if not settings.from_sentences:
        return out
    skip = {e.id for e in batch.entities if e.type == "SESSION"}
    speakers = {ep.id: ep.speaker for ep in batch.episodes}
    texts: list[tuple[str, str]] = [(p.id, p.text) for p in batch.passages if p.status == "ok"]
    if settings.from_turns:
        texts += [(ep.id, str(ep.metadata.get("text", ep.text))) for ep in batch.episodes]
    for src, text in texts:
        ids = [e for e in dict.fromkeys(linked.get(src, [])) if e not in skip]
        if len(ids) < settings.min_members:
            continue
        names: dict[str, str] = {}
        for eid in ids:
            ent = ents.get(eid)
            if ent is None:
                continue
            if speakers.get(src) and ent.normalized == normalize_name(speakers[src] or ""):
                continue  # every turn of a speaker would "name" them
            for alias in (ent.name, *ent.aliases):
                norm = normalize_name(alias)
                if norm:
                    names.setdefault(norm, eid)
        for sent in sentences(text):
            members = _names_in(sent, names)
            if settings.min_members <= len(members) <= settings.max_members:
                hid = hyperedge_id(ns, "sentence", normalize_name(sent))
                out.append(
                    (
                        Hyperedge(
                            id=hid, namespace=ns, description=sent, kind="sentence", members=members
                        ),
                        src,
                    )
                )
    return out


@dataclass(frozen=True)
class HyperedgeHook:
    """The batch hook that adds (and merges) the hyperedges of each ingested batch."""

    settings: HyperSettings = field(default_factory=HyperSettings)

    def __call__(
        self, store: Store, embedder: Embedder, batch: WriteBatch, report: IngestReport
    ) -> None:
        if not self.settings.enabled:
            return
        units = candidate_units(batch, self.settings)
        if units:
            add_units(store, embedder, batch, units, self.settings)


def add_units(
    store: Store,
    embedder: Embedder,
    batch: WriteBatch,
    units: Sequence[tuple[Hyperedge, str | None]],
    settings: HyperSettings,
) -> tuple[int, int]:
    """Add ``units`` (each with its source node id, or None) to ``batch``, merging by the rule.

    Returns (units stored as new, units merged into another).
    """
    ns = batch.namespace
    vecs = ensure_vectors(store, embedder, batch, [h for h, _ in units])
    member_ids = sorted({m for h, _ in units for m in h.members})
    # Stored units touching these members are the merge candidates.
    stored_ids = {
        e.src for e in store.edges_of(ns, member_ids, ["CONNECTS"]) if is_kind(e.src, HYPEREDGE)
    }
    known: dict[str, Hyperedge] = dict(store.get_hyperedges(ns, sorted(stored_ids)))
    in_batch = {h.id: h for h in batch.hyperedges}
    pool: dict[str, Hyperedge] = {**known, **in_batch}
    pool_vecs = ensure_vectors(store, embedder, batch, pool.values()) if pool else {}
    pool_vecs.update(vecs)
    by_member: dict[str, set[str]] = {}
    for h in pool.values():
        for m in h.members:
            by_member.setdefault(m, set()).add(h.id)
    changed: dict[str, Hyperedge] = dict(in_batch)
    edges: list[Edge] = []
    added = merged = 0
    for unit, src in units:
        target = pool.get(unit.id)
        if target is None:
            target = _merge_target(unit, pool, by_member, pool_vecs, settings)
        if target is None:
            target = unit
            added += 1
        else:
            if target.id != unit.id:
                merged += 1
            fresh = [m for m in unit.members if m not in target.members]
            if fresh:
                target = target.model_copy(update={"members": [*target.members, *fresh]})
        pool[target.id] = target
        changed[target.id] = target
        for m in target.members:
            by_member.setdefault(m, set()).add(target.id)
            edges.append(_edge("CONNECTS", ns, target.id, m, settings.member_weight))
        if src is not None:
            edges.append(_edge("STATES", ns, src, target.id, 1.0))
    batch.hyperedges = list(changed.values())
    batch.edges.extend(edges)
    return added, merged


def _merge_target(
    unit: Hyperedge,
    pool: dict[str, Hyperedge],
    by_member: dict[str, set[str]],
    vecs: dict[str, Vector],
    settings: HyperSettings,
) -> Hyperedge | None:
    members = set(unit.members)
    cands = {hid for m in members for hid in by_member.get(m, set())}
    if not cands:
        return None
    v = vecs.get(embed_key(unit))
    best: tuple[float, str] | None = None
    for hid in sorted(cands):
        other = pool[hid]
        if jaccard(members, set(other.members)) < settings.merge_jaccard:
            continue
        w = vecs.get(embed_key(other))
        if v is None or w is None:
            continue
        cos = _cosine(v, w)
        if cos >= settings.merge_cosine and (best is None or cos > best[0]):
            best = (cos, hid)
    return pool[best[1]] if best is not None else None


def _cosine(a: Vector, b: Vector) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 or nb == 0:
        return 0.0
    return float(np.dot(a, b)) / (na * nb)


def _edge(etype: str, ns: str, src: str, dst: str, weight: float) -> Edge:
    return Edge.model_validate(
        {"type": etype, "src": src, "dst": dst, "namespace": ns, "weight": weight}
    )


def note_unit(namespace: str, description: str, members: Sequence[str]) -> Hyperedge:
    """A user's note joining ``members`` (entity ids): ``kind="note"``, id from its text."""
    text = " ".join(description.split())
    return Hyperedge(
        id=hyperedge_id(namespace, "note", normalize_name(text) or text),
        namespace=namespace,
        description=text,
        kind="note",
        members=list(dict.fromkeys(members)),
    )
