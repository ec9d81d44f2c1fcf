"""The shipped notes corpus (examples/data/notes) is consistent: every gold quote and every mention
pins down one place in an existing file, and the README's counts are the real ones."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3] / "examples" / "data" / "notes"
DOCS = ROOT / "docs"
HEADING = re.compile(r"^#{1,6} ", re.M)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"{path.name}:{n}: blank line"
        row = json.loads(line)
        assert isinstance(row, dict), f"{path.name}:{n}: not an object"
        rows.append(row)
    return rows


def doc_files() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*") if p.is_file())


def text_of(source: str) -> str:
    path = DOCS / source
    assert path.is_file(), f"source {source!r} does not exist under docs/"
    return path.read_text(encoding="utf-8")


def section_of(text: str, offset: int) -> int:
    """Offset of the Markdown heading that opens the section holding ``offset`` (-1: before any)."""
    starts = [m.start() for m in HEADING.finditer(text) if m.start() <= offset]
    return starts[-1] if starts else -1


QUESTIONS = read_jsonl(ROOT / "questions.jsonl")
PAIRS = read_jsonl(ROOT / "resolution_pairs.jsonl")


def test_docs_folder_has_realistic_variety() -> None:
    files = doc_files()
    assert 32 <= len(files) <= 40
    suffixes = Counter(p.suffix for p in files)
    assert set(suffixes) == {".md", ".txt"}
    assert 3 <= suffixes[".txt"] <= 4
    assert len({p.parent for p in files}) >= 4, "notes must sit in subfolders"
    texts = [p.read_text(encoding="utf-8") for p in files]
    assert all(t.strip() for t in texts), "no empty notes"
    front_matter = [t for t in texts if re.match(r"---\n(?:.*\n)*?---\n", t)]
    assert len(front_matter) >= 3
    for t in front_matter:
        header = t.split("---\n")[1]
        assert re.search(r"^title: ", header, re.M) and re.search(r"^date: ", header, re.M)
    sizes = [p.stat().st_size for p in files]
    assert max(sizes) > 20_000, "one note must be long enough to need chunking"
    assert sum(1_000 <= s <= 6_000 for s in sizes) >= 0.8 * len(sizes)


def test_two_same_named_files_in_different_folders_differ() -> None:
    eng, sales = DOCS / "eng" / "notes.md", DOCS / "sales" / "notes.md"
    assert eng.is_file() and sales.is_file()
    assert eng.read_text(encoding="utf-8") != sales.read_text(encoding="utf-8")
    gold_sources = {g["source"] for q in QUESTIONS for g in q["gold"]}
    assert {"eng/notes.md", "sales/notes.md"} <= gold_sources


def test_question_records_are_well_formed() -> None:
    ids = [q["id"] for q in QUESTIONS]
    assert len(ids) == len(set(ids)), "question ids must be unique"
    for q in QUESTIONS:
        assert set(q) == {"id", "question", "answers", "hops", "gold"}, q["id"]
        assert q["question"].strip().endswith("?"), q["id"]
        assert q["answers"] and all(isinstance(a, str) and a for a in q["answers"]), q["id"]
        assert q["hops"] in (1, 2, 3), q["id"]
        assert q["hops"] == len(q["gold"]), f"{q['id']}: hops must equal the number of gold quotes"
    hops = Counter(q["hops"] for q in QUESTIONS)
    assert len(QUESTIONS) >= 24
    assert hops[1] >= 5 and hops[2] >= 10 and hops[3] >= 5


@pytest.mark.parametrize("q", QUESTIONS, ids=[q["id"] for q in QUESTIONS])
def test_every_gold_quote_occurs_once_and_hops_use_different_sections(q: dict[str, Any]) -> None:
    places = []
    for g in q["gold"]:
        assert set(g) == {"source", "quote"}
        text, quote = text_of(g["source"]), g["quote"]
        assert 20 <= len(quote) <= 120, f"{q['id']}: quote length {len(quote)}"
        assert "\n" not in quote, f"{q['id']}: a quote must not span lines or headings"
        assert text.count(quote) == 1, f"{q['id']}: {quote!r} occurs {text.count(quote)}x"
        places.append((g["source"], section_of(text, text.index(quote))))
    assert len(set(places)) == len(places), f"{q['id']}: two hops read the same section"


def test_answers_are_not_given_away_by_the_question() -> None:
    for q in QUESTIONS:
        asked = q["question"].lower()
        assert not any(a.lower() in asked for a in q["answers"]), q["id"]


def test_resolution_pairs_point_at_real_mentions() -> None:
    assert len(PAIRS) >= 50
    keys = set()
    for n, p in enumerate(PAIRS, 1):
        where = f"resolution_pairs.jsonl:{n}"
        assert set(p) - {"note"} == {"source", "mention", "context", "candidate", "same"}, where
        assert isinstance(p["same"], bool), where
        text = text_of(p["source"])
        assert p["mention"] in text, f"{where}: mention not in {p['source']}"
        assert text.count(p["context"]) == 1, f"{where}: context must occur once"
        assert "\n" not in p["context"], where
        assert p["context"].count(p["mention"]) == 1, f"{where}: context must hold the mention once"
        key = (p["source"], p["context"], p["mention"], p["candidate"])
        assert key not in keys, f"{where}: duplicate pair"
        keys.add(key)


def test_resolution_pairs_are_balanced_with_hard_negatives() -> None:
    positive = sum(p["same"] for p in PAIRS)
    assert 0.5 <= positive / len(PAIRS) <= 0.7
    negatives = [p for p in PAIRS if not p["same"]]
    # Hard negatives: the same mention labelled true against another candidate somewhere.
    true_mentions = {p["mention"] for p in PAIRS if p["same"]}
    hard = [p for p in negatives if p["mention"] in true_mentions]
    assert len(hard) >= 0.5 * len(negatives)
    candidates = {p["candidate"] for p in negatives}
    assert {"Daniel Okoro", "Daniel Reyes", "Florence Achterberg", "Project Heron"} <= candidates


def test_readme_counts_are_the_real_ones() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    files = doc_files()
    hops = Counter(q["hops"] for q in QUESTIONS)
    positive = sum(p["same"] for p in PAIRS)
    stated = [
        f"{len(files)} files",
        f"{sum(p.stat().st_size for p in files):,} bytes",
        f"{len(QUESTIONS)} questions: {hops[1]} one-hop, {hops[2]} two-hop, {hops[3]} three-hop",
        f"{sum(len(q['gold']) for q in QUESTIONS)} gold quotes",
        f"{len(PAIRS)} resolution pairs: {positive} same, {len(PAIRS) - positive} different",
        "CC BY 4.0",
    ]
    for fact in stated:
        assert fact in readme, f"README should state {fact!r}"
