"""A delete purges its namespace's extraction-cache rows and the vectors no stored node uses
(issue 21 §1; SQLite since migration 0005, the Cypher stores since this suite joined).

The caches are keyed by content, so without the purge a deleted passage's entities and facts
stay readable in the extraction cache, and its vectors stay on disk, after the delete.
"""

from __future__ import annotations

from graphmem.models import Passage
from graphmem.store.base import Store, WriteBatch, cache_prefix, embed_key

from support.contract import NS, doc_batch, ent, with_vectors

DOCS = [
    ("doc1", "Ingrid Berg leads Project Kelp in Bergen.", [("Ingrid Berg", "leads", "Kelp")]),
    ("doc2", "Kelp ships in May.", [("Kelp", "ships in", "May")]),
]


def _world(store: Store, ns: str) -> WriteBatch:
    batch = with_vectors(doc_batch(ns, DOCS))
    for p in batch.passages:
        batch.extractions[cache_prefix(ns, p.id) + "nlp:1"] = f'{{"of": "{p.text}"}}'
    store.write(batch)
    return batch


def _passage(batch: WriteBatch, source: str) -> Passage:
    return next(p for p in batch.passages if p.source == source)


def test_delete_source_purges_its_extractions_and_unused_vectors(store: Store, ns: NS) -> None:
    a, b = ns("a"), ns("b")
    world = _world(store, a)
    # b holds an entity of the same name as one only doc1 supports in a: its vector is b's too
    shared = with_vectors(WriteBatch(b, entities=[ent(b, "Ingrid Berg")]))
    shared.extractions[cache_prefix(b, "p:other") + "nlp:1"] = '{"of": "b"}'
    store.write(shared)
    p1, p2 = _passage(world, "doc1"), _passage(world, "doc2")
    k1, k2 = cache_prefix(a, p1.id) + "nlp:1", cache_prefix(a, p2.id) + "nlp:1"
    kb = cache_prefix(b, "p:other") + "nlp:1"
    assert set(store.cached_extractions([k1, k2, kb])) == {k1, k2, kb}
    model = str(world.embedding_model)
    keys = {n.id: embed_key(n) for n in world.nodes()}
    ingrid, kelp = ent(a, "Ingrid Berg").id, ent(a, "Kelp").id
    leads = next(f for f in world.facts if f.predicate == "leads")
    assert set(store.cached_vectors(model, list(keys.values()))) == set(keys.values())

    report = store.delete_source(a, "doc1")
    assert report.passages == 1

    assert store.cached_extractions([k1, k2, kb]) == {
        k2: f'{{"of": "{p2.text}"}}',
        kb: '{"of": "b"}',
    }
    left = store.cached_vectors(model, list(keys.values()))
    # what only doc1 supported, and no other namespace uses: the passage, its fact
    assert keys[p1.id] not in left and keys[leads.id] not in left
    assert keys[p2.id] in left and keys[kelp] in left  # still used in a
    assert keys[ingrid] in left  # Ingrid Berg left a, but b's entity of that name uses it


def test_delete_namespace_purges_its_extractions_and_unused_vectors(store: Store, ns: NS) -> None:
    a, b = ns("a"), ns("b")
    world = _world(store, a)
    other = _world(store, b)
    store.write(with_vectors(WriteBatch(a, entities=[ent(a, "Only In A")])))
    model = str(world.embedding_model)
    mine = [cache_prefix(a, p.id) + "nlp:1" for p in world.passages]
    theirs = [cache_prefix(b, p.id) + "nlp:1" for p in other.passages]
    only_a = embed_key(ent(a, "Only In A"))
    shared = [embed_key(n) for n in world.nodes()]
    assert only_a in store.cached_vectors(model, [only_a])

    store.delete_namespace(a)

    assert store.cached_extractions(mine) == {}
    assert set(store.cached_extractions(theirs)) == set(theirs)
    left = store.cached_vectors(model, [only_a, *shared])
    assert only_a not in left
    assert set(shared) <= set(left)  # b's nodes of the same texts use them
