"""The extraction and embedding caches reveal and keep nothing across namespaces (issue 21, item 1).

They were keyed by text hash alone: as team-b, ingesting team-a's exact passage reported an
extraction cache hit and no text embedded, even after team-a deleted it, and the cache kept
team-a's entities and facts. Now a namespace only ever hits on its own stored items, and a
delete purges the cache rows and vectors that no stored item uses any more.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from graphmem import Document, Memory
from graphmem.embed.local import LocalEmbedder
from graphmem.ids import text_hash
from graphmem.store.base import embed_key

SECRET = "Ingrid Berg leads Project Kelp in Bergen. Project Kelp has a budget of 4.2 million."
OTHER = "Maria Lopez founded Solvik Labs in Lisbon. Solvik Labs builds tidal turbines."
COUNTS = ("extraction_calls", "extraction_cache_hits", "texts_embedded", "embedding_cache_hits")


def memory(path: Path, embedder: LocalEmbedder) -> Memory:
    return Memory(f"sqlite:///{path}", embedder=embedder, extractor="nlp")


def test_another_namespaces_passage_shows_no_cache_hit(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    with memory(tmp_path / "m.db", embedder) as mem:
        first = mem.add_many([Document(text=SECRET, source="plan.md")], namespace="team-a")
        probe = mem.add_many([Document(text=SECRET, source="guess.md")], namespace="team-b")
        assert first.extraction_calls == 1 and first.texts_embedded > 1
        # team-b sees exactly what a first-ever ingest of that text sees
        assert {c: getattr(probe, c) for c in COUNTS} == {c: getattr(first, c) for c in COUNTS}
        assert probe.extraction_cache_hits == 0 and probe.embedding_cache_hits == 0
        assert mem.stats("team-b").facts == mem.stats("team-a").facts > 0


def test_a_delete_leaves_no_cached_entity_fact_or_vector_of_it(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    path = tmp_path / "m.db"
    with memory(path, embedder) as mem:
        mem.add_many([Document(text=SECRET, source="plan.md")], namespace="team-a")
        mem.add_many([Document(text=OTHER, source="b.md")], namespace="team-b")
        ids = {k: mem.store.list_ids("team-a", k, limit=100) for k in ("entity", "fact")}
        nodes = [
            *mem.store.get_entities("team-a", ids["entity"]).values(),
            *mem.store.get_facts("team-a", ids["fact"]).values(),
        ]
        keys = {embed_key(n) for n in nodes} | {text_hash(SECRET)}
        assert len(nodes) >= 3
        report = mem.delete(source="plan.md", namespace="team-a")
        assert report.passages == 1
        kept = mem.search("Who founded Solvik Labs?", k=1, namespace="team-b")
        assert kept.passages and kept.passages[0].passage.text == OTHER
    db = sqlite3.connect(path)
    cached = " ".join(v for (v,) in db.execute("SELECT value FROM extractions"))
    assert "Maria Lopez" in cached  # team-b's own cache is kept
    assert "Ingrid" not in cached and "Kelp" not in cached
    marks = ",".join("?" * len(keys))
    left = db.execute(f"SELECT count(*) FROM vectors WHERE key IN ({marks})", sorted(keys))
    assert left.fetchone()[0] == 0
    db.close()


def test_a_vector_another_namespace_still_uses_survives_the_delete(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    with memory(tmp_path / "m.db", embedder) as mem:
        mem.add_many([Document(text=SECRET, source="plan.md")], namespace="team-a")
        mem.add_many([Document(text=SECRET, source="copy.md")], namespace="team-b")
        mem.delete_namespace("team-a")
        hit = mem.search("Who leads Project Kelp?", k=1, namespace="team-b")
        assert hit.passages and hit.passages[0].passage.text == SECRET
        assert mem.stats("team-a").passages == 0
