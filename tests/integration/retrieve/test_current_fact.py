""" "Where does Ada live?": Ada's own current fact comes before her sister's, a relative time in
the text dates the fact, and ``search --between`` keeps the facts that held then (issue 12 §3).

tests/data/ada_moves.jsonl: on 15 June 2024 Ada says "I moved to Lisbon last month." and "My sister
lives in Hamburg." (MiniLM and spaCy, a real SQLite file.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graphmem import Memory
from graphmem.cli import app
from graphmem.embed.local import LocalEmbedder

DATA = Path(__file__).resolve().parents[2] / "data" / "ada_moves.jsonl"
EPISODES = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, embedder: LocalEmbedder) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('ada') / 'm.db'}"
    with Memory(url, embedder=embedder, extractor="nlp") as mem:
        mem.add_episodes(EPISODES)
    yield url


def facts(store: str, embedder: LocalEmbedder, question: str) -> list[tuple[str, str, str]]:
    with Memory(store, embedder=embedder, extractor=None) as mem:
        found = mem.search(question)
    return [(h.subject_name, h.fact.predicate, h.object_name) for h in found.facts]


def test_the_named_person_s_current_fact_comes_first(store: str, embedder: LocalEmbedder) -> None:
    found = facts(store, embedder, "Where does Ada live?")
    assert ("Ada", "moved to", "Lisbon") in found and len(found) >= 2
    assert found[0] == ("Ada", "moved to", "Lisbon"), found
    # asked about the sister, her fact leads
    assert facts(store, embedder, "Where does Ada's sister live?")[0][2] == "Hamburg"


def test_a_relative_time_in_the_text_dates_the_fact(store: str, embedder: LocalEmbedder) -> None:
    with Memory(store, embedder=embedder, extractor=None) as mem:
        stored = {h.object_name: h.fact for h in mem.search("Where does Ada live?").facts}
    # "last month", said on 15 June 2024: from 15 May, not from the episode's time
    assert stored["Lisbon"].valid_at == datetime(2024, 5, 15, 10, 0, tzinfo=UTC)
    # no time in that sentence: the episode's own time
    assert stored["Hamburg"].valid_at == datetime(2024, 6, 15, 10, 1, tzinfo=UTC)


def test_search_between_keeps_the_facts_that_held_then(store: str) -> None:
    def objects(*between: str) -> set[str]:
        done = CliRunner().invoke(
            app,
            ["search", "Where does Ada live?", "--store", store, "--json", "--between", *between],
            catch_exceptions=False,
        )
        assert done.exit_code == 0, done.output
        result = json.loads(done.stdout)
        return {f["object_name"] for f in result["facts"]}

    assert "Lisbon" in objects("2024-05-20", "2024-05-31")
    assert "Hamburg" not in objects("2024-05-20", "2024-05-31")
    assert {"Lisbon", "Hamburg"} <= objects("2024-06-16", "-")
