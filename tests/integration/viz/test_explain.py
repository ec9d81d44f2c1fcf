"""``explain`` and ``graphmem viz`` on a real Memory over the demo corpus (temporary SQLite store)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from graphmem import AsyncMemory, Memory
from graphmem.cli.viz import viz_command
from graphmem.errors import InputError
from graphmem.ingest.sources import read_documents
from graphmem.viz import explain

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "examples/data/demo_corpus.jsonl"
QUESTIONS = [json.loads(line) for line in (ROOT / "examples/data/demo_questions.jsonl").open()]


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('explain') / 'demo.db'}"


@pytest.fixture(scope="module")
def memory(store_url: str) -> Iterator[Memory]:
    with Memory(store_url, extractor="nlp") as mem:
        mem.add_many(read_documents(CORPUS))
        yield mem


@pytest.mark.parametrize("q", QUESTIONS[:4], ids=lambda q: q["id"])
def test_explain_shows_the_walk_behind_the_answer(memory: Memory, q: dict[str, object]) -> None:
    question = str(q["question"])
    ex = explain(memory, question, k=5)
    searched = memory.search(question, k=5)
    assert [h.passage.id for h in ex.result.passages] == [h.passage.id for h in searched.passages]
    assert [h.score for h in ex.result.passages] == pytest.approx(
        [h.score for h in searched.passages]
    )

    # Seeds and PageRank scores are the walk's own (the entities the question names included).
    found = memory.searcher.run(question, k=5).retrieved.passages
    assert ex.seeds == {n: w for n, w in found.seeds.items() if n.startswith("e:")}
    assert ex.seeds, "the demo questions match facts, so the walk has entity seeds"
    by_id = {n.id: n for n in ex.nodes}
    for eid, weight in ex.seeds.items():
        assert by_id[eid].seed == pytest.approx(weight)
    for node in ex.nodes:
        if node.kind == "entity":
            assert node.score == pytest.approx(found.node_scores.get(node.id, 0.0))
    # The answer passages, ranked; facts are real stored facts between drawn entities.
    passages = [n for n in ex.nodes if n.kind == "passage"]
    assert [n.id for n in passages] == [h.passage.id for h in searched.passages]
    fact_ids = [e.fact_id for e in ex.edges if e.kind == "fact"]
    assert fact_ids and all(fact_ids)
    stored = memory.store.get_facts("default", [f for f in fact_ids if f])
    assert set(stored) == set(fact_ids)
    for e in ex.edges:
        assert e.source in by_id and e.target in by_id
        if e.kind == "fact":
            assert (e.source, e.target) == (stored[e.fact_id].subject, stored[e.fact_id].object)  # type: ignore[index]
    # A seed-to-passage path reaches a gold passage.
    gold = set(q["gold_passage_ids"])  # type: ignore[arg-type]
    reached = {n.source for n in passages if n.on_path}
    assert reached & gold, (reached, gold)
    path_nodes = {n.id for n in ex.nodes if n.on_path}
    assert path_nodes & set(ex.seeds)


def test_explain_accepts_async_memory_and_rejects_bad_input(memory: Memory) -> None:
    amem = AsyncMemory(memory.store, embedder=memory.embedder, extractor=None)
    ex = explain(amem, str(QUESTIONS[0]["question"]), k=3)
    assert len([n for n in ex.nodes if n.kind == "passage"]) == 3
    with pytest.raises(InputError, match="empty"):
        explain(memory, "   ")
    with pytest.raises(InputError, match="k must be"):
        explain(memory, "why?", k=0)
    with pytest.raises(InputError, match="local Memory"):
        explain(object(), "why?")


def test_explain_in_an_empty_namespace_draws_nothing_and_says_so(memory: Memory) -> None:
    ex = explain(memory, "Anything at all?", namespace="empty-ns")
    assert ex.nodes == [] and ex.result.passages == []
    assert "No passage answers this question." in ex.to_html()


def test_viz_command_writes_html_and_png(memory: Memory, store_url: str, tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("viz")(viz_command)
    app.command("noop")(lambda: None)  # two commands, so "viz" is a subcommand as in graphmem's CLI
    out, png = tmp_path / "out" / "answer.html", tmp_path / "answer.png"
    question = str(QUESTIONS[1]["question"]) + " <script>alert(1)</script>"
    result = CliRunner().invoke(
        app, ["viz", question, "-o", str(out), "--png", str(png), "--store", store_url, "--k", "4"]
    )
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    page = out.read_text(encoding="utf-8")
    assert 0 < out.stat().st_size < 2 * 1024 * 1024
    assert "<script>alert(1)</script>" not in page
    assert "Lumen X2" in page
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
