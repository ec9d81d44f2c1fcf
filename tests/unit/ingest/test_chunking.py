"""Chunking: structure first (sections, paragraphs), then embedder tokens; offsets into the text."""

from __future__ import annotations

import itertools

import pytest

from graphmem.ids import passage_id
from graphmem.ingest.chunking import (
    Chunker,
    ChunkSettings,
    embedder_counter,
    estimate_tokens,
    extraction_text,
)
from graphmem.ingest.passages import to_passages
from graphmem.models import Document

MD = """---
title: Kestrel
date: 2024-03-11
---

# Kestrel

Kestrel builds sensors.

## Roadmap

Kestrel ships the dashboard in May.

The beta follows in June.

```
# not a heading
```
"""


def chunker(max_tokens: int = 200, overlap: int = 32) -> Chunker:
    return Chunker(ChunkSettings(max_tokens=max_tokens, overlap=overlap), estimate_tokens)


def test_markdown_sections_keep_paths_offsets_and_line_breaks() -> None:
    chunks = chunker().chunks(MD, {"format": "markdown"}, "Kestrel")
    assert [c.section for c in chunks] == ["Kestrel", "Kestrel > Roadmap"]
    for c in chunks:
        body = MD[c.start : c.end]
        assert c.text == f"{c.section}\n{body}"
        assert "#" not in body.splitlines()[0], "a heading line is never inside a body"
    roadmap = chunks[1]
    assert "May.\n\nThe beta" in roadmap.text, "paragraph breaks are kept"
    assert "# not a heading" in roadmap.text, "a # inside a code fence is not a heading"
    assert "title:" not in "".join(c.text for c in chunks), "front matter is not text"


def test_extractor_sees_the_body_without_the_section_path() -> None:
    doc = Document(text=MD, source="k.md", title="Kestrel", metadata={"format": "markdown"})
    passages = to_passages(doc, "default", chunker())
    for p in passages:
        seen = extraction_text(p.text, p.metadata)
        assert p.text == p.metadata["section"] + "\n" + seen
        assert p.metadata["document"] == "k.md"
        assert MD[p.metadata["start"] : p.metadata["end"]] == seen
    assert [p.metadata["chunk"] for p in passages] == [0, 1]


def test_long_paragraph_is_cut_in_overlapping_windows_within_budget() -> None:
    words = [f"w{i}" for i in range(400)]
    text = " ".join(words)
    chunks = chunker(max_tokens=50, overlap=10).chunks(text, {"format": "text"})
    assert len(chunks) > 5
    for c in chunks:
        assert estimate_tokens(c.text) <= 50
        assert text[c.start : c.end] == c.text
    for a, b in itertools.pairwise(chunks):
        assert b.start < a.end, "neighbouring windows share some words"
        assert a.end - b.start < (a.end - a.start) / 2
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_paragraphs_pack_until_the_budget() -> None:
    paras = [" ".join(f"p{i}w{j}" for j in range(10)) for i in range(10)]  # 13 tokens each
    text = "\n\n".join(paras)
    chunks = chunker(max_tokens=40, overlap=4).chunks(text, {"format": "text"})
    assert [c.text.count("\n\n") + 1 for c in chunks] == [3, 3, 3, 1]
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_short_unstructured_document_is_one_passage_as_before() -> None:
    doc = Document(text="  Emma\nEmma is a novel by Jane Austen.  ", source="emma")
    [p] = to_passages(doc, "ns", chunker(max_tokens=8, overlap=2))
    assert p.text == "Emma\nEmma is a novel by Jane Austen."
    assert p.id == passage_id("ns", p.text)
    assert p.metadata == {}


def test_long_unstructured_string_is_chunked() -> None:
    text = "\n\n".join(f"Paragraph {i} says something about topic {i}. " * 20 for i in range(12))
    passages = to_passages(Document(text=text), "ns", chunker())
    assert len(passages) > 3
    assert all(
        p.metadata["section"] == "" and p.text == text[p.metadata["start"] : p.metadata["end"]]
        for p in passages
    )


def test_headings_only_markdown_has_no_chunks() -> None:
    assert chunker().chunks("# A\n\n## B\n", {"format": "markdown"}) == []
    with pytest.raises(Exception, match="only headings"):
        to_passages(
            Document(text="# A\n## B", source="h.md", metadata={"format": "markdown"}),
            "ns",
            chunker(),
        )


def test_musique_slice_ids_unchanged_with_the_real_tokenizer() -> None:
    from pathlib import Path

    from graphmem.bench.data import load_dataset
    from graphmem.embed.local import LocalEmbedder

    ds = load_dataset(Path(__file__).resolve().parents[2] / "data" / "musique_slice")
    count = embedder_counter(LocalEmbedder())
    assert count is not estimate_tokens, "the bundled tokenizer should be found"
    real = Chunker(ChunkSettings(), count)
    groups = ds.groups()
    longest = max(count(g.text) for g in groups)
    assert longest > 200, "the slice has passages over one chunk's size: they must stay whole"
    for g in groups:
        doc = Document(text=g.text, source=g.corpus_ids[0], title=g.title or None)
        [p] = to_passages(doc, "bench", real)
        assert p.id == passage_id("bench", g.text) and p.text == g.text.strip()
