"""``graphmem search``'s text output in a subprocess, on a real SQLite store (MiniLM, spaCy).

Episodes from tests/data/temporal_episodes.jsonl (homes, employers and CEOs that change) in one
namespace, a note with line breaks in another. What the command prints is checked against the
same search made in process and rendered by graphmem.cli.render.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from graphmem import Memory
from graphmem.cli.render import RESULT_FACTS, render_text, unit_ended, validity
from graphmem.embed.local import LocalEmbedder
from graphmem.ingest.hyperedges import HyperSettings
from graphmem.validity import is_current

from support.temporal import temporal_episodes

ROOT = Path(__file__).resolve().parents[3]
EPISODES = temporal_episodes()
NOTE = (
    "Kestrel\n\n"
    "Kestrel is the data platform project at Fernhill.\n"
    "Priya Natarajan leads Kestrel.\n"
    "Priya Natarajan reports to Daniel Reyes."
)
WIDTH = 200


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, embedder: LocalEmbedder) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('render') / 'm.db'}"
    # turns' sentences become units (off by default), so an ended unit is there to print
    units = HyperSettings(from_turns=True)
    with Memory(url, embedder=embedder, extractor="nlp", hyperedges=units) as mem:
        mem.add_episodes(EPISODES, namespace="temporal")
        mem.add(NOTE, source="notes/kestrel.md", namespace="notes")
    yield url


def cli_search(store: str, namespace: str, question: str) -> str:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "COLUMNS": str(WIDTH),
        "NO_COLOR": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "graphmem.cli",
            "search",
            question,
            "--store",
            store,
            "-n",
            namespace,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return "\n".join(line.rstrip() for line in done.stdout.splitlines()) + "\n"


def test_episodes_print_facts_with_validity_and_one_speaker(
    store: str, embedder: LocalEmbedder
) -> None:
    question = "Who is the CEO of Northwind?"
    out = cli_search(store, "temporal", question)
    with Memory(store, embedder=embedder, extractor=None, namespace="temporal") as mem:
        result = mem.search(question)
    assert out == render_text(result, width=WIDTH)  # the command prints what render.py renders

    assert result.episodes and result.facts
    assert "Reporter: Reporter:" not in out
    for ehit in result.episodes:
        assert f"session {ehit.episode.session}" in out
        assert ehit.episode.text in out  # "Reporter: ..." once, as stored
    ended = [h for h in result.facts[:RESULT_FACTS] if not is_current(h.fact)]
    assert ended, "the CEO before Tom Baker has ended"
    for h in ended:
        line = next(
            x
            for x in out.splitlines()
            if f"-[{h.fact.predicate}]-> ({h.object_name})" in x and f"({h.subject_name})" in x
        )
        assert f"[{validity(h.fact)}]" in line and "ended " in line
    facts = [h.fact for h in result.facts]
    marked = [u for u in result.hyperedges if unit_ended(u, facts)]
    assert marked, "the unit 'Maria Lopez is the CEO of Northwind.' is found, and has ended"
    for u in marked:
        assert any(
            x.startswith("memory unit") and u.hyperedge.description in x and "[ended " in x
            for x in out.splitlines()
        )


def test_speaker_is_not_repeated(store: str) -> None:
    out = cli_search(store, "temporal", "Where does Ada live?")
    assert "episode " in out and "Ada: " in out
    assert "Ada: Ada:" not in out
    assert "ended 2022-03-01" in out  # Berlin, before she moved back to Lisbon


def test_passages_keep_line_breaks_and_show_the_fact_chain(
    store: str, embedder: LocalEmbedder
) -> None:
    question = "Who does the lead of Kestrel report to?"
    out = cli_search(store, "notes", question)
    with Memory(store, embedder=embedder, extractor=None, namespace="notes") as mem:
        result = mem.search(question)
    assert out == render_text(result, width=WIDTH)
    lines = out.splitlines()
    start = lines.index("   Kestrel")
    assert lines[start : start + 5] == ["   " + x if x else "" for x in NOTE.split("\n")]
    hit = result.passages[0]
    assert hit.path and hit.facts, "the note's facts link it to the question"
    via = next(x for x in lines if x.startswith("   via "))
    assert "-[" in via or "<-[" in via
    assert any(f"-[{h.fact.predicate}]" in via for h in hit.facts)
