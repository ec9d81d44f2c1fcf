"""A real ingest with the offline (spaCy) extractor over names spelled two ways (issue 21, item 0).

On a 2WikiMultihopQA corpus the ingest died with RecursionError: one document wrote "Roman
Polański" then "Roman Polanski", the namespace had kept "Roman Polanski", so each spelling
resolved to the other. Here the same shape, in three small documents.
"""

from __future__ import annotations

from pathlib import Path

from graphmem import Document, Memory
from graphmem.embed.local import LocalEmbedder
from graphmem.ids import entity_id


def test_two_spellings_of_one_name_ingest_as_one_entity(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    docs = [
        Document(text="Roman Polanski was born in Paris.", source="early"),
        # one document (one source) in two passages, each spelling the name its own way
        Document(text="Roman Polański directed Chinatown.", source="bio"),
        Document(text="Roman Polanski married Sharon Tate.", source="bio"),
    ]
    with Memory(f"sqlite:///{tmp_path / 'm.db'}", embedder=embedder, extractor="nlp") as mem:
        report = mem.add_many(docs)
        assert report.passages_added == 3 and report.documents_unresolved == 0
        ents = mem.store.get_entities(
            "default",
            [entity_id("default", "Roman Polanski"), entity_id("default", "Roman Polański")],
        )
        # one node, the namespace's spelling, with the other spelling as an alias
        assert [e.name for e in ents.values()] == ["Roman Polanski"]
        assert "Roman Polański" in next(iter(ents.values())).aliases
        facts = mem.store.list_ids("default", "fact", limit=100)
        subjects = {f.subject for f in mem.store.get_facts("default", facts).values()}
        assert entity_id("default", "Roman Polanski") in subjects
        assert entity_id("default", "Roman Polański") not in subjects
