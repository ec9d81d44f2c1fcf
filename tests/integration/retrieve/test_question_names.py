"""Entities named in the question seed the walk (HippoRAG's query NER), with real spaCy and MiniLM.

The namer runs while the question is embedded; these tests check what it changes: which
entities seed the walk, that it runs once per search, and what ``Memory(namer=)`` resolves to.
"""

from __future__ import annotations

import threading

import pytest

from graphmem.embed.local import LocalEmbedder
from graphmem.errors import ConfigError, ExtractionError
from graphmem.extract.base import ExtractedEntity, ExtractedFact, Extraction
from graphmem.extract.nlp import SpacyExtractor
from graphmem.ids import entity_id
from graphmem.memory import Memory
from graphmem.models import Passage
from graphmem.store.sqlite.store import SQLiteStore

TEXTS = [
    "Marie Curie was born in Warsaw. She studied physics in Paris.",
    "Warsaw is the capital of Poland and lies on the Vistula.",
    "The Vistula is the longest river in Poland.",
]


class Triples:
    """An extractor of fixed triples with no namer of its own (like precomputed triples)."""

    name = "triples"
    version = "1"
    cacheable = False

    def extract(self, passages: list[Passage]) -> list[Extraction]:
        out = []
        for p in passages:
            subject = p.text.split(" ")[0] if not p.text.startswith("Marie") else "Marie Curie"
            out.append(
                Extraction(
                    entities=[ExtractedEntity(name=subject)],
                    facts=[ExtractedFact(subject=subject, predicate="is in", object="Poland")],
                )
            )
        return out


def test_spacy_names_the_question_as_it_names_passages() -> None:
    ex = SpacyExtractor()
    [found] = ex.extract([Passage(id="p", text=TEXTS[0])])
    names = ex.question_entities("Where was Marie Curie born?")
    assert "Marie Curie" in names
    assert {entity_id("n", n) for n in names} & {entity_id("n", e.name) for e in found.entities}


def test_named_entities_seed_the_walk_once_per_search(embedder: LocalEmbedder) -> None:
    calls: list[str] = []
    seen_threads: set[str] = set()

    def namer(question: str) -> list[str]:
        calls.append(question)
        seen_threads.add(threading.current_thread().name)
        return ["Vistula", "Nowhere Land"]  # the second names no entity of the graph

    mem = Memory(SQLiteStore(":memory:"), embedder=embedder, namer=namer)
    mem.add_many(TEXTS)
    searched = mem.searcher.run("Which river runs through the city?", k=3)
    assert calls == ["Which river runs through the city?"]
    assert any(name.startswith("graphmem-prefetch") for name in seen_threads)
    seeds = searched.retrieved.passages.seeds
    vistula = entity_id("default", "Vistula")
    assert vistula in seeds and entity_id("default", "Nowhere Land") not in seeds

    plain = Memory(mem.store, embedder=embedder, namer=None).searcher.run(
        "Which river runs through the city?", k=3
    )
    assert seeds[vistula] > plain.retrieved.passages.seeds.get(vistula, 0.0)
    mem.close()


def test_a_failing_namer_leaves_retrieval_working(
    embedder: LocalEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    def namer(question: str) -> list[str]:
        raise ExtractionError("the namer is down")

    mem = Memory(SQLiteStore(":memory:"), embedder=embedder, namer=namer)
    mem.add_many(TEXTS)
    result = mem.search("Where was Marie Curie born?", k=2)
    assert result.passages and "the namer is down" in caplog.text
    mem.close()


def test_auto_falls_back_to_spacy_for_an_extractor_without_a_namer(
    embedder: LocalEmbedder,
) -> None:
    mem = Memory(SQLiteStore(":memory:"), embedder=embedder, extractor=Triples())
    assert mem.namer is not None and "Marie Curie" in mem.namer("Where was Marie Curie born?")
    mem.add_many(TEXTS)
    seeds = mem.searcher.run("Where was Marie Curie born?", k=2).retrieved.passages.seeds
    assert entity_id("default", "Marie Curie") in seeds
    spacy_mem = Memory(SQLiteStore(":memory:"), embedder=embedder)
    assert spacy_mem.namer == spacy_mem.extractor.question_entities  # type: ignore[union-attr]
    assert Memory(SQLiteStore(":memory:"), embedder=embedder, namer=None).namer is None
    with pytest.raises(ConfigError, match="unknown namer 'spacy'"):
        Memory(SQLiteStore(":memory:"), embedder=embedder, namer="spacy")
    for m in (mem, spacy_mem):
        m.close()


def test_naming_a_question_does_not_import_torch_and_leaves_it_importable() -> None:
    """thinc imports torch (0.9 s) when it can; the default pipeline never needs it."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from graphmem.extract.nlp import SpacyExtractor\n"
        "names = SpacyExtractor().question_entities('Where was Marie Curie born?')\n"
        "print(names, 'torch' in sys.modules)\n"
        "import torch\n"
        "print(torch.tensor([1.0]).sum().item())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout.splitlines()
    assert out == ["['Marie Curie'] False", "1.0"]


def test_prefetched_names_and_bm25_give_the_inline_ranking(embedder: LocalEmbedder) -> None:
    """The search core starts the namer and the BM25 search before embedding; the ranking is
    exactly the one retrieve() computes inline from the same inputs."""
    from graphmem.retrieve.passages import retrieve

    mem = Memory(SQLiteStore(":memory:"), embedder=embedder)
    mem.add_many(TEXTS)
    question = "Which river runs through the capital of Poland?"
    for k in (1, 3):
        searched = mem.searcher.run(question, k=k).retrieved.passages
        vector = embedder.embed([question], kind="query")[0]
        assert mem.namer is not None
        named = [entity_id("default", n) for n in mem.namer(question)]
        inline = retrieve(
            mem.store, "default", vector, k, mem.passage_search, named=named, question=question
        )
        assert searched.hits == inline.hits and searched.seeds == inline.seeds
    mem.close()
