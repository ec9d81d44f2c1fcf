"""The conversation benchmark end to end on a small slice of locomo_dev (real model, real spaCy)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from graphmem.bench.conversation import load_conversation
from graphmem.bench.runner import TEMPORARY_STORE, run_bench
from graphmem.embed.local import LocalEmbedder
from graphmem.errors import ConfigError, InputError

LOCOMO = Path(__file__).resolve().parents[3] / "shared" / "bench" / "locomo_dev"
SESSIONS = {1, 2}  # conv-26's first two sessions: 35 turns


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture(scope="module")
def slice_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("locomo") / "locomo_slice"
    folder.mkdir()
    turns = [t for t in _read(LOCOMO / "turns.jsonl")
             if t["conversation_id"] == "conv-26" and t["session"] in SESSIONS]  # fmt: skip
    kept = {t["dia_id"] for t in turns}
    questions = [q for q in _read(LOCOMO / "questions.jsonl")
                 if q["conversation_id"] == "conv-26" and q["evidence_dia_ids"]
                 and set(q["evidence_dia_ids"]) <= kept]  # fmt: skip
    assert len(questions) >= 5
    _write(folder / "turns.jsonl", turns)
    _write(folder / "questions.jsonl", questions)
    return folder


@pytest.fixture(scope="module")
def result(
    slice_dir: Path, embedder: LocalEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("out") / "bench.json"
    data = run_bench(slice_dir, embedder=embedder, json_path=out, progress=False, show_table=False)
    assert json.loads(out.read_text()) == data
    return data


def test_json_has_the_exact_schema(result: dict[str, Any], slice_dir: Path) -> None:
    assert list(result) == [
        "dataset",
        "kind",
        "store",
        "extractor",
        "methods",
        "timings",
        "peak_rss_mb",
    ]
    assert (result["dataset"], result["kind"]) == ("locomo_slice", "conversation")
    assert (result["store"], result["extractor"]) == (TEMPORARY_STORE, "nlp")
    assert list(result["methods"]) == ["graphmem", "dense", "bm25"]
    asked = len(load_conversation(slice_dir).questions)
    for scores in result["methods"].values():
        assert list(scores) == ["recall@5", "recall@10", "recall@25", "by_category"]
        assert 0 <= scores["recall@5"] <= scores["recall@10"] <= scores["recall@25"] <= 1
        assert sum(c["n"] for c in scores["by_category"].values()) == asked
        for row in scores["by_category"].values():
            assert list(row) == ["recall@5", "recall@10", "recall@25", "n"]
    assert set(result["timings"]) == {"ingest_s", "query_ms_p50", "query_ms_p95"}
    assert result["timings"]["ingest_s"] > 0 and result["peak_rss_mb"] > 0


def test_dense_baseline_is_cosine_over_the_turn_texts(
    result: dict[str, Any], slice_dir: Path, embedder: LocalEmbedder
) -> None:
    """Recompute dense Recall@5 outside graphmem: "speaker: text" turns ranked by cosine."""
    ds = load_conversation(slice_dir)
    texts = [f"{t.speaker}: {t.text}" if t.text.strip() else f"{t.speaker}: {t.blip_caption}"
             for t in ds.turns]  # fmt: skip
    doc = embedder.embed(texts)
    qv = embedder.embed([q.question for q in ds.questions], kind="query")
    recalls = []
    for q, v in zip(ds.questions, qv, strict=True):
        top = np.argsort(-(doc @ v), kind="stable")[:5]
        found = {ds.turns[i].dia_id for i in top}
        recalls.append(len(found & set(q.evidence_ids)) / len(set(q.evidence_ids)))
    assert result["methods"]["dense"]["recall@5"] == pytest.approx(np.mean(recalls), abs=0.05)


def test_graphmem_is_not_worse_than_dense_on_the_slice(result: dict[str, Any]) -> None:
    g, d = result["methods"]["graphmem"], result["methods"]["dense"]
    assert g["recall@10"] >= d["recall@10"] - 1e-9


def test_unreadable_session_time_fails_before_any_write(slice_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    rows = _read(slice_dir / "turns.jsonl")
    rows[3]["session_time"] = "sometime after lunch"
    _write(bad / "turns.jsonl", rows)
    (bad / "questions.jsonl").write_bytes((slice_dir / "questions.jsonl").read_bytes())
    store = tmp_path / "never.db"
    with pytest.raises(InputError) as err:
        run_bench(bad, store=f"sqlite:///{store}", progress=False, show_table=False)
    assert (err.value.line, err.value.field) == (4, "session_time")
    assert str(bad / "turns.jsonl") in str(err.value)
    assert not store.exists()


def test_precomputed_extractor_is_refused(slice_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"triples\.jsonl"):
        run_bench(slice_dir, extractor="precomputed", progress=False, show_table=False)
