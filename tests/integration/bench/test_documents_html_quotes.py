"""The documents bench locates gold quotes inside HTML files (issue 21 §9).

A gold quote is written as a reader sees the page (or copied from its source), while the bench
looked for it verbatim in the text the HTML loader extracted: a ``<br>``, a table cell's end, an
``&amp;`` or a typographic apostrophe made it "not in" the file and the run failed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphmem.bench.documents import locate_quote, run_documents_bench
from graphmem.errors import InputError
from graphmem.ingest.folders import read_documents

from support.api import HashEmbedder

PAGE = """<html><head><title>Kelp</title><style>.kelp { color: red }</style></head><body>
<h1>Project Kelp</h1>
<p>Ingrid Berg leads<br>Project&nbsp;Kelp in Bergen &amp; Oslo.</p>
<table><tr><th>Name</th><th>Role</th></tr><tr><td>Sunita Rao</td><td>Firmware Lead</td></tr></table>
<p>It&rsquo;s due in <em>May
  2025</em> &mdash; after the sea trials.</p>
</body></html>
"""
QUOTES = {
    "q1": "Ingrid Berg leads Project Kelp in Bergen & Oslo.",  # across a <br>, &nbsp;
    "q2": "Bergen &amp; Oslo",  # as the page's source writes it
    "q3": "Sunita Rao Firmware Lead",  # two table cells
    "q4": "It's due in May 2025 - after the sea trials.",  # typographic apostrophe and dash
    "q5": "<em>May 2025</em>",  # markup copied with the words
}


def _folder(tmp_path: Path, quotes: dict[str, str]) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "kelp.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "docs" / "notes.md").write_text("# Notes\n\nKelp ships in May.\n")
    rows = [
        {"id": qid, "question": f"What about {qid}?", "gold": [{"source": "kelp.html", "quote": q}]}
        for qid, q in quotes.items()
    ]
    (tmp_path / "questions.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return tmp_path


def test_every_html_quote_maps_to_the_loaded_text(tmp_path: Path) -> None:
    (doc,) = [
        d for d in read_documents(_folder(tmp_path, QUOTES) / "docs") if d.source == "kelp.html"
    ]
    for qid, quote in QUOTES.items():
        assert doc.text.find(quote) < 0  # none is in the loaded text verbatim
        span = locate_quote(doc.text, quote)
        assert span is not None, (qid, doc.text)
    found = doc.text[slice(*locate_quote(doc.text, QUOTES["q1"]))]  # type: ignore[misc]
    assert found.startswith("Ingrid Berg leads") and found.endswith("Bergen & Oslo.")
    assert locate_quote(doc.text, "Sunita Rao leads Kelp") is None  # words not in the page


def test_the_bench_runs_on_html_gold(tmp_path: Path) -> None:
    run = run_documents_bench(
        _folder(tmp_path, QUOTES), extractor="none", embedder=HashEmbedder(), progress=False
    )
    assert run.gold_quotes == len(QUOTES) and run.gold_reachable == len(QUOTES)
    assert run.run.questions == len(QUOTES)


def test_a_quote_the_page_does_not_hold_still_fails_clearly(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"q1": "Ingrid Berg leads Project Cod"})
    with pytest.raises(InputError, match=r"quote not in kelp\.html"):
        run_documents_bench(folder, extractor="none", embedder=HashEmbedder(), progress=False)
