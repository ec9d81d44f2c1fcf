"""Entity resolution: merge names that normalize alike, resolve short names, link look-alikes.

Exact merging is free: an entity's id is the hash of its normalized name (see
:func:`graphmem.ids.entity_id`), so "The Beatles" and "the beatles!" are one node. Names that
are close but not equal ("J. Lennon" / "John Lennon") are not merged, which would be wrong too
often; they get a weighted ``SYNONYM`` edge instead (HippoRAG: cosine >= 0.8 over the k nearest
neighbours), and PageRank flows along it in proportion to the similarity.

Cost: each new entity is compared with its ``k`` nearest neighbours found by the store's vector
index (exact up to tens of thousands of entities, approximate beyond), plus the other new entities
of its own batch, so the work grows with the batch, not with the square of the graph. Two values
(numbers, dates, quantities: "2024 ~ 2023", "ten engineers ~ five engineers") are never synonyms.

Short names: a mention that is a token subset of one PERSON/ORG name ("Priya" of "Priya
Natarajan", "Tomas" of "Tomás Silva": accents are folded for matching, never for display) is that
entity. A lone first name may also be a nickname prefix of a person's first name ("Alex" of
"Alexandra Reid"); an initial matches a token it starts ("Daniel O." of "Daniel Okoro"). One
candidate: the mention resolves to it; several: the mention keeps its node with a SYNONYM edge to
each, the weight split. Candidates come from the document first, then from the namespace
(:func:`resolve_mentions`). Names are indexed by folded token (:class:`NameIndex`), so a lookup
costs the candidates of the mention's rarest token, never a scan of all names
(:mod:`graphmem.names`).

>>> import numpy as np
>>> v = np.array([[1, 0], [0.99, 0.14], [0, 1]], dtype=np.float32)
>>> v /= np.linalg.norm(v, axis=1, keepdims=True)
>>> [(a, b) for a, b, _ in within_batch_synonyms(["x", "y", "z"], v, threshold=0.8, k=5)]
[('x', 'y')]
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from graphmem.extract.base import Extraction
from graphmem.ingest.merges import settle_merges
from graphmem.models import Edge, Passage
from graphmem.names import PLACE_TYPES, VALUE_TYPES, NameIndex, fold, looks_like_value
from graphmem.store.base import Store, Vector
from graphmem.store.threads import single_blas_thread

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResolverSettings:
    """``threshold``: minimum cosine for a synonym edge; ``k``: neighbours considered per entity;
    ``skip_types``: entity types that never get synonym edges (a conversation's sessions are
    distinct by construction, however alike their names embed; values are not names)."""

    threshold: float = 0.8
    k: int = 10
    skip_types: frozenset[str] = frozenset({"SESSION"}) | VALUE_TYPES


def within_batch_synonyms(
    ids: Sequence[str], vectors: Vector, *, threshold: float, k: int
) -> list[tuple[str, str, float]]:
    """Pairs (a, b, cosine) among one batch's new entities, each pair once, a < b in batch order."""
    if len(ids) < 2:
        return []
    with single_blas_thread():
        sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1.0)
    out: list[tuple[str, str, float]] = []
    kk = min(k, len(ids) - 1)
    top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
    for i, row in enumerate(top):
        for j in row:
            score = float(sims[i, j])
            if score >= threshold and i < j:
                out.append((ids[i], ids[int(j)], score))
    return out


def synonym_edges(
    store: Store,
    namespace: str,
    new_ids: Sequence[str],
    new_vectors: Vector,
    settings: ResolverSettings = ResolverSettings(),
    new_types: Mapping[str, str | None] | None = None,
    new_names: Mapping[str, str] | None = None,
) -> list[Edge]:
    """SYNONYM edges from new entities to close existing ones and to each other.

    ``new_types``/``new_names``: the new entities' types and names, so those in
    ``settings.skip_types`` and pairs of two values are left out (existing entities' are looked
    up in the store).
    """
    if not new_ids:
        return []
    pairs: dict[tuple[str, str], float] = {}
    hits = store.vector_search(namespace, "entity", new_vectors, settings.k)
    new_set = set(new_ids)
    for src, row in zip(new_ids, hits, strict=True):
        for dst, score in row:
            if score >= settings.threshold and dst != src and dst not in new_set:
                pairs[(src, dst)] = max(score, pairs.get((src, dst), 0.0))
    for a, b, score in within_batch_synonyms(
        new_ids, new_vectors, threshold=settings.threshold, k=settings.k
    ):
        pairs[(a, b)] = score
    if pairs:
        types = dict(new_types or {})
        names = dict(new_names or {})
        others = sorted({b for _, b in pairs if b not in types or b not in names})
        for i, e in store.get_entities(namespace, others).items():
            types.setdefault(i, e.type)
            names.setdefault(i, e.name)
        pairs = {
            (a, b): s
            for (a, b), s in pairs.items()
            if types.get(a) not in settings.skip_types
            and types.get(b) not in settings.skip_types
            and not (looks_like_value(names.get(a, "")) and looks_like_value(names.get(b, "")))
        }
    return [
        Edge(type="SYNONYM", src=a, dst=b, namespace=namespace, weight=round(s, 6))
        for (a, b), s in pairs.items()
    ]


@dataclass
class Resolution:
    """What the mentions of one document resolve to: one name, or several weighted links."""

    merges: dict[str, str] = field(default_factory=dict)
    links: dict[str, list[tuple[str, float]]] = field(default_factory=dict)


def resolve_mentions(
    mentions: Mapping[str, str | None], document: NameIndex, namespace: NameIndex | None
) -> Resolution:
    """Resolve one document's ``mentions`` (name → type) against its names, then the namespace's.

    Places and values never resolve here (a place typed so by NER is a person only on evidence
    the extractor sees, such as being the subject of a verb).
    """
    out = Resolution()
    for name, etype in mentions.items():
        if etype in PLACE_TYPES or etype in VALUE_TYPES:
            continue
        found = document.candidates(name)
        if not found and namespace is not None:
            found = namespace.candidates(name)
        if len(found) == 1:
            out.merges[name] = found[0]
        elif found:
            out.links[name] = [(c, round(1.0 / len(found), 6)) for c in found]
    # The document's and the namespace's indexes may keep different spellings of one folded
    # name ("Roman Polański" / "Roman Polanski") and map each to the other: settle on one.
    prefer = namespace.spelling if namespace is not None else None
    out.merges = settle_merges(out.merges, fold, prefer)
    return out


def load_names(store: Store, namespace: str) -> NameIndex:
    """Every full PERSON/ORG name stored in ``namespace``, read page by page."""
    index = NameIndex()
    after: str | None = None
    while True:
        ids = store.list_ids(namespace, "entity", after=after, limit=1000)
        for e in store.get_entities(namespace, ids).values():
            index.add(e.name, e.type)
        if len(ids) < 1000:
            return index
        after = ids[-1]


def resolve_documents(
    index: NameIndex,
    passages: Sequence[Passage],
    extractions: Sequence[Extraction],
    *,
    failed: list[str] | None = None,
) -> dict[str, Resolution]:
    """How each document's mentions resolve, by passage id (passages of one source are one
    document); ``index``, the namespace's names, learns the batch's names first.

    A document whose names cannot be resolved keeps them unresolved, with a warning, and its
    source is appended to ``failed``: one document's names never stop an ingest.
    """
    docs: dict[str, list[int]] = {}
    for i, p in enumerate(passages):
        docs.setdefault(p.source or p.id, []).append(i)
    for ex in extractions:
        index.add_all((e.name, e.type) for e in ex.entities)
    out: dict[str, Resolution] = {}
    for members in docs.values():
        doc_names = NameIndex()
        mentions: dict[str, str | None] = {}
        for i in members:
            ex = extractions[i]
            for e in ex.entities:
                doc_names.add(e.name, e.type)
                mentions.setdefault(e.name.strip(), e.type)
            for f in ex.facts:
                mentions.setdefault(f.subject.strip(), None)
                mentions.setdefault(f.object.strip(), None)
            for ev in ex.events:
                mentions.update({n.strip(): None for n in ev.participants if n not in mentions})
        try:
            resolution = resolve_mentions(mentions, doc_names, index)
            for short, full in phrase_merges(mentions).items():
                resolution.merges.setdefault(short, full)
            resolution.merges = settle_merges(resolution.merges, fold, index.spelling)
        except Exception as exc:  # a bug in one document's names must not stop the ingest
            doc = passages[members[0]].source or passages[members[0]].id
            log.warning("names of %s left unresolved: %s: %s", doc, type(exc).__name__, exc)
            if failed is not None:
                failed.append(doc)
            resolution = Resolution()
        for i in members:
            out[passages[i].id] = resolution
    return out


#: first words that make a name of what follows ("Project Kelp" is Kelp, the project)
_DESIGNATORS = frozenset({"project", "operation", "programme", "program", "initiative"})


def phrase_merges(mentions: Iterable[str]) -> dict[str, str]:
    """Short forms of one document's longer names that stand for them: "Kelp" for "Project
    Kelp", "Oslo office" for "Oslo office of Fjordline Freight" (a named head before "of" and a
    name after it). Only when the document holds one such longer name for the short form."""
    names = {fold(m): m for m in mentions if m.strip()}
    longer: dict[str, set[str]] = {}
    for name in names.values():
        words = name.split()
        if len(words) >= 2 and words[0].lower() in _DESIGNATORS and words[1][:1].isupper():
            longer.setdefault(fold(" ".join(words[1:])), set()).add(name)
        head, of, tail = name.partition(" of ")
        named_head = any(w[:1].isupper() for w in head.split())
        if of and len(head.split()) >= 2 and tail[:1].isupper() and named_head:
            longer.setdefault(fold(head), set()).add(name)
    return {
        names[short]: next(iter(full))
        for short, full in longer.items()
        if short in names and len(full) == 1 and fold(next(iter(full))) != short
    }
