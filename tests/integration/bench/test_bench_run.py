"""``run_bench`` end to end on a small folder cut from the shipped musique slice (real store, model,
extractors)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from graphmem.bench.baselines import BM25Index
from graphmem.bench.data import MultihopDataset, copy_without_triples, load_dataset
from graphmem.bench.metrics import multihop_scores
from graphmem.bench.report import print_run
from graphmem.bench.runner import TEMPORARY_STORE, BenchRun, run_bench, run_bench_detailed
from graphmem.cli import app
from graphmem.errors import ConfigError, InputError

MUSIQUE = Path(__file__).resolve().parents[2] / "data" / "musique_slice"
N_QUESTIONS = 3
N_DISTRACTORS = 8

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 musique questions, their gold passages and a few distractors, with their triples.

    One extra corpus row repeats a gold passage's text under another id ("dup"), and one extra
    question has that id as gold: identical passages are stored once and must count for both ids.
    """
    folder = tmp_path_factory.mktemp("bench") / "musique_small"
    folder.mkdir()
    questions = _read(MUSIQUE / "questions.jsonl")[:N_QUESTIONS]
    keep: list[str] = []
    for q in questions:
        keep += q["gold_passage_ids"]
        keep += [c for c in q["candidate_passage_ids"] if c not in q["gold_passage_ids"]][
            : N_DISTRACTORS // N_QUESTIONS
        ]
    corpus = {row["id"]: row for row in _read(MUSIQUE / "corpus.jsonl")}
    rows = [corpus[c] for c in dict.fromkeys(keep)]
    first_gold = questions[0]["gold_passage_ids"][0]
    rows.append({**corpus[first_gold], "id": "dup"})
    questions.append(
        {
            "id": "q-dup",
            "question": questions[0]["question"],
            "answers": [],
            "gold_passage_ids": ["dup"],
        }
    )
    ids = {r["id"] for r in rows}
    triples = [t for t in _read(MUSIQUE / "triples.jsonl") if t["passage_id"] in ids]
    for name, data in (("corpus", rows), ("questions", questions), ("triples", triples)):
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in data))
    return folder


def _exact_schema(result: dict[str, Any]) -> None:
    assert list(result) == [
        "dataset",
        "kind",
        "store",
        "extractor",
        "methods",
        "timings",
        "peak_rss_mb",
        "skipped_questions",
        "differs_from_dense",
        "cold_start",
    ]
    differs = result["differs_from_dense"]
    assert 0 <= differs["questions"] <= 100
    if differs["questions"]:
        assert list(differs["methods"]) == ["graphmem", "dense", "bm25"]
    cold = result["cold_start"]
    assert 0 < cold["import_s"] < cold["first_answer_s"]
    assert list(result["methods"]) == ["graphmem", "dense", "bm25"]
    for scores in result["methods"].values():
        assert list(scores) == ["recall@2", "recall@5", "all@5"]
        assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in scores.values())
        assert scores["recall@2"] <= scores["recall@5"] and scores["all@5"] <= scores["recall@5"]
    assert list(result["timings"]) == ["ingest_s", "query_ms_p50", "query_ms_p95"]
    assert all(isinstance(v, float) and v > 0 for v in result["timings"].values())
    assert result["timings"]["query_ms_p50"] <= result["timings"]["query_ms_p95"]
    assert isinstance(result["peak_rss_mb"], float) and result["peak_rss_mb"] > 50
    assert all(isinstance(result[k], str) for k in ("dataset", "kind", "store", "extractor"))


def _independent_baselines(folder: Path) -> dict[str, dict[str, float]]:
    """Dense (MiniLM directly) and BM25 recomputed without the store or the runner."""
    from graphmem.embed.local import LocalEmbedder

    ds = load_dataset(folder)
    assert isinstance(ds, MultihopDataset)
    groups = ds.groups()
    texts = [q.question for q in ds.questions]
    golds = [q.gold_ids for q in ds.questions]
    emb = LocalEmbedder()
    cos = emb.embed(texts, kind="query") @ emb.embed([g.text for g in groups], kind="passage").T
    dense = [[groups[i].corpus_ids for i in np.argsort(-row)[:5]] for row in cos]
    index = BM25Index([g.text for g in groups])
    bm25 = [[groups[i].corpus_ids for i, _ in index.top_k(t, 5)] for t in texts]
    return {
        "dense": multihop_scores(dense, golds, (2, 5)),
        "bm25": multihop_scores(bm25, golds, (2, 5)),
    }


@pytest.fixture(scope="module")
def persist_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('store') / 'persist.db'}"


@pytest.fixture(scope="module")
def first_run(small: Path, persist_url: str) -> BenchRun:
    return run_bench_detailed(small, store=persist_url, progress=False)


def test_exact_json_and_baselines_match_independent_ones(first_run: BenchRun, small: Path) -> None:
    result = first_run.to_json()
    _exact_schema(result)
    assert result["dataset"] == "musique_small" and result["kind"] == "multihop"
    assert result["extractor"] == "precomputed" and result["skipped_questions"] == []
    # graphmem's hits map back to corpus ids (a broken mapping would score 0 here: 5 of ~15
    # passages are always enough to find some gold)
    assert result["methods"]["graphmem"]["recall@5"] > 0.3

    expected = _independent_baselines(small)
    for method in ("dense", "bm25"):
        assert result["methods"][method] == pytest.approx(expected[method], abs=1e-6), method


def test_table_shows_every_method_in_percent(first_run: BenchRun) -> None:
    console = Console(record=True, width=140)
    print_run(first_run, console)
    text = console.export_text()
    for method in ("graphmem", "dense", "bm25"):
        r5 = f"{100 * first_run.methods[method]['recall@5']:.1f}"
        row = next(line for line in text.splitlines() if line.strip("│┃ ").startswith(method))
        assert r5 in row
    assert "graphmem − dense" in text and "ingest" in text and "peak RSS" in text


def test_identical_passages_count_for_every_id(first_run: BenchRun, small: Path) -> None:
    assert first_run.corpus_passages == first_run.stored_passages + 1  # "dup" shares its text
    idx = first_run.question_ids.index("q-dup")
    first_gold = json.loads((small / "questions.jsonl").read_text().splitlines()[0])[
        "gold_passage_ids"
    ][0]
    for method, rankings in first_run.rankings.items():
        same_question = rankings[0]  # q-dup asks the same question as the first one
        found_first = any(first_gold in rank for rank in same_question)
        found_dup = any("dup" in rank for rank in rankings[idx])
        assert found_first == found_dup, method
        for rank in rankings[idx]:
            assert ("dup" in rank) == (first_gold in rank)


def test_second_run_on_the_same_store_ingests_nothing_and_gives_the_same_figures(
    first_run: BenchRun, small: Path, persist_url: str
) -> None:
    second = run_bench_detailed(small, store=persist_url, progress=False)
    assert first_run.ingest is not None and second.ingest is not None
    assert first_run.ingest.passages_added == first_run.stored_passages
    assert second.ingest.passages_added == 0
    assert second.ingest.passages_skipped == second.stored_passages
    assert second.ingest.texts_embedded == 0
    assert second.methods == first_run.methods
    assert second.to_json()["store"] == persist_url


def test_folder_without_triples_runs_the_nlp_extractor(small: Path, tmp_path: Path) -> None:
    folder = copy_without_triples(small, tmp_path / "no_triples")
    out = tmp_path / "out" / "bench.json"
    result = run_bench(folder, limit=2, json_path=out, progress=False, show_table=False)
    _exact_schema(result)
    assert json.loads(out.read_text()) == result
    assert result["extractor"] == "nlp" and result["dataset"] == "no_triples"
    assert result["store"] == TEMPORARY_STORE
    with pytest.raises(ConfigError, match=r"needs a triples\.jsonl"):
        run_bench(folder, extractor="precomputed", progress=False, show_table=False)


def _with_dangling_gold(small: Path, folder: Path) -> Path:
    """A copy of ``small`` with one more question whose gold passage is not in the corpus."""
    folder.mkdir()
    for f in small.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    with (folder / "questions.jsonl").open("a") as fh:
        fh.write('{"id": "qx", "question": "Who?", "gold_passage_ids": ["p0", "nope"]}\n')
    return folder


def test_strict_refuses_dangling_gold_before_the_store_is_touched(
    small: Path, tmp_path: Path
) -> None:
    bad = _with_dangling_gold(small, tmp_path / "bad")
    db = tmp_path / "untouched.db"
    with pytest.raises(InputError) as info:
        run_bench(bad, store=f"sqlite:///{db}", progress=False, show_table=False, strict=True)
    assert info.value.path == str(bad / "questions.jsonl") and info.value.line == N_QUESTIONS + 2
    assert info.value.field == "gold_passage_ids" and "'nope'" in str(info.value)
    assert not db.exists()
    # the CLI flag passes through
    with pytest.raises(InputError, match="'nope'"):
        CliRunner().invoke(
            app,
            ["bench", str(bad), "--strict", "--store", f"sqlite:///{db}"],
            catch_exceptions=False,
        )
    assert not db.exists()


def test_dangling_gold_skips_the_question_and_says_so(
    first_run: BenchRun, small: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = _with_dangling_gold(small, tmp_path / "flawed")
    with caplog.at_level(logging.WARNING, logger="graphmem.bench"):
        run = run_bench_detailed(bad, progress=False)
    line = N_QUESTIONS + 2
    reason = "gold passage id 'nope' is not in corpus.jsonl"
    assert "qx" not in run.question_ids and run.questions == N_QUESTIONS + 1
    [warning] = [r.getMessage() for r in caplog.records if "skipping" in r.getMessage()]
    assert f"skipping 1 of {N_QUESTIONS + 2} questions" in warning and "'qx'" in warning
    data = run.to_json()
    assert data["skipped_questions"] == [{"id": "qx", "line": line, "reason": reason}]
    console = Console(record=True, width=200)
    print_run(run, console)
    text = " ".join(console.export_text().split())  # the caption wraps at the table's width
    assert f"1 question skipped (gold ids not in the data): qx ({reason})" in text
    # the scores are those of the questions kept: the same as on the unflawed folder
    assert data["methods"] == first_run.to_json()["methods"]


def test_bad_arguments_fail_fast(small: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="k values"):
        run_bench(small, k_values=(), progress=False, show_table=False)
    with pytest.raises(ConfigError, match="limit"):
        run_bench(small, limit=0, progress=False, show_table=False)
    with pytest.raises(ConfigError, match="it is a folder"):
        run_bench(small, json_path=tmp_path, progress=False, show_table=False)
