"""What an ingest makes of real-looking Markdown with the offline extractor (issue 21, item 10).

The labelled files in tests/data/markdown_extraction go through loaders, chunking, spaCy and
name resolution (benchmarks/extraction_eval.py). Before this item: entity precision 0.667, fact
precision 0.657; table rows were glued into names, emphasis stayed in them, an update section was
dated by the front matter, and "Kelp" and "Project Kelp" were two nodes.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from graphmem.extract.markdown import read_structure
from graphmem.ingest.chunking import Chunker, ChunkSettings, estimate_tokens

pytest.importorskip("spacy")

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "extraction_eval.py"


def _eval_module() -> Any:
    spec = importlib.util.spec_from_file_location("extraction_eval", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def stored() -> tuple[dict[str, Any], dict[str, Any]]:
    entities, facts = _eval_module().ingest()
    return entities, facts


def _by_text(facts: dict[str, Any]) -> dict[str, Any]:
    return {f.text: f for f in facts.values()}


def test_no_table_cells_or_emphasis_glued_into_names(stored: tuple[dict[str, Any], Any]) -> None:
    entities, _ = stored
    names = [n for e in entities.values() for n in (e.name, *e.aliases)]
    assert not [n for n in names if "|" in n or "*" in n or "_" in n], names
    assert not {"Name", "Role", "Range", "Measures", "Sensor | Maker"} & set(names)


def test_table_rows_and_key_lines_are_facts_named_by_their_header(
    stored: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    texts = set(_by_text(stored[1]))
    for fact in (
        "Sunita Rao role Firmware Lead",
        "Henrik Dahl office Bergen",
        "FrostTag maker Polar Devices",
        "ColdTrack 3 maker Norsk Maling",
        "ColdTrack 3 measures temperature",
        "ColdTrack 3 used by Project Kelp",
    ):
        assert fact in texts, sorted(texts)


def test_a_date_beside_a_fact_dates_it_instead_of_looping(
    stored: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    entities, facts = stored
    by_text = _by_text(facts)
    assert "Henrik Dahl started in 2021" not in by_text
    assert by_text["Henrik Dahl started in Bergen"].valid_at.year == 2021
    assert by_text["Sunita Rao joined Fjordline Freight"].valid_at.year == 2019
    loops = [f.text for f in facts.values() if f.subject == f.object]
    names = {e.name for e in entities.values()}
    # what loops is a value beside nothing else ("opened in 2015"), never a name
    assert all(f.split()[-1] not in names for f in loops), loops


def test_an_update_section_is_dated_by_its_heading(
    stored: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    by_text = _by_text(stored[1])
    september = datetime(2024, 9, 1)
    for text in (
        "Project Kelp moved to Bergen",
        "Ingrid Solberg moved to Bergen office",
        "Mei Tanaka hired Lars Berg",
    ):
        assert by_text[text].valid_at.replace(tzinfo=None) == september, text
    # the front matter still dates the sections without a written date
    assert by_text["Mei Tanaka leads Project Kelp"].valid_at.date().isoformat() == "2024-02-01"
    assert by_text["Henrik Dahl tested release in Bergen"].valid_at.month == 3  # "## March 2024"


def test_short_forms_resolve_to_their_full_name(stored: tuple[dict[str, Any], Any]) -> None:
    entities, _ = stored
    names = {e.name: e for e in entities.values()}
    assert "Kelp" not in names and "Kelp" in names["Project Kelp"].aliases
    assert "Oslo office" not in names
    assert "Oslo office" in names["Oslo office of Fjordline Freight"].aliases


def test_a_long_table_is_chunked_under_its_header_row() -> None:
    rows = "\n".join(f"| Person{i} Smith | Engineer {i} | Oslo |" for i in range(40))
    text = f"# Staff\n\n| Name | Role | Office |\n|---|---|---|\n{rows}\n"
    chunks = Chunker(ChunkSettings(max_tokens=60, overlap=4), count=estimate_tokens).chunks(
        text, {"format": "markdown"}
    )
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.text.startswith("Staff\n| Name | Role | Office |\n|---|---|---|\n| Person")
    body = "\n".join(c.text.split("\n", 3)[3] for c in chunks)
    assert body == rows  # every row once, in order
    _, facts = read_structure(chunks[-1].text.split("\n", 1)[1])
    assert ("Person39 Smith", "role", "Engineer 39") in {
        (f.subject, f.predicate, f.object) for f in facts
    }


def test_extraction_precision_on_the_labelled_markdown() -> None:
    s = _eval_module().evaluate()
    assert s.entity_precision >= 0.85, s.wrong
    assert s.fact_precision >= 0.85, s.wrong
    assert s.entity_recall >= 0.85 and s.fact_recall >= 0.85, s.missed
