"""The conversation benchmark end to end on the shipped conversation fixture (tests/data, LoCoMo
layout; real model, real spaCy)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from graphmem.bench.conversation import load_conversation
from graphmem.bench.conversation_runner import print_conversation, run_conversation_bench
from graphmem.bench.runner import TEMPORARY_STORE, run_bench
from graphmem.embed.local import LocalEmbedder
from graphmem.errors import ConfigError, InputError

CONVERSATIONS = Path(__file__).resolve().parents[2] / "data" / "conversations"


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture(scope="module")
def slice_dir() -> Path:
    return CONVERSATIONS


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
        "skipped_questions",
        "confidence",
    ]
    assert (result["dataset"], result["kind"]) == ("conversations", "conversation")
    conf = result["confidence"]
    assert (conf["answerable"], conf["adversarial"]["n"], conf["abstention"]["n"]) == (18, 4, 0)
    assert 0 <= conf["adversarial"]["auroc"] <= 1 and conf["abstention"]["auroc"] is None
    assert (result["store"], result["extractor"]) == (TEMPORARY_STORE, "nlp")
    assert result["skipped_questions"] == []
    assert list(result["methods"]) == ["graphmem", "dense", "bm25"]
    # every question with evidence is asked: 22 of the 23 (conv-a_q10 has none)
    asked = sum(1 for q in load_conversation(slice_dir).questions if q.evidence_ids)
    assert asked == 22
    for scores in result["methods"].values():
        assert list(scores) == ["recall@5", "recall@10", "recall@25", "by_category"]
        assert 0 <= scores["recall@5"] <= scores["recall@10"] <= scores["recall@25"] <= 1
        assert sum(c["n"] for c in scores["by_category"].values()) == asked
        assert {c: row["n"] for c, row in scores["by_category"].items()} == {
            "multi-hop": 4,
            "temporal": 5,
            "open-domain": 3,
            "single-hop": 6,
            "adversarial": 4,
        }
        for row in scores["by_category"].values():
            assert list(row) == ["recall@5", "recall@10", "recall@25", "n"]
    assert set(result["timings"]) == {"ingest_s", "query_ms_p50", "query_ms_p95"}
    assert result["timings"]["ingest_s"] > 0 and result["peak_rss_mb"] > 0


def test_dense_baseline_is_cosine_over_the_turn_texts(
    result: dict[str, Any], slice_dir: Path, embedder: LocalEmbedder
) -> None:
    """Recompute dense Recall@5 outside graphmem: each conversation's "speaker: text" turns ranked
    by cosine against the questions of that conversation."""
    ds = load_conversation(slice_dir)
    asked = [q for q in ds.questions if q.evidence_ids]
    qv = embedder.embed([q.question for q in asked], kind="query")
    recalls = []
    for conv, turns in ds.conversations().items():
        texts = [
            f"{t.speaker}: {t.text}" if t.text.strip() else f"{t.speaker}: {t.blip_caption}"
            for t in turns
        ]
        doc = embedder.embed(texts)
        for q, v in zip(asked, qv, strict=True):
            if q.conversation_id != conv:
                continue
            top = np.argsort(-(doc @ v), kind="stable")[:5]
            found = {turns[i].dia_id for i in top}
            recalls.append(len(found & set(q.evidence_ids)) / len(set(q.evidence_ids)))
    assert len(recalls) == len(asked)
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


def test_dangling_evidence_is_skipped_reported_and_refused_when_strict(
    slice_dir: Path, embedder: LocalEmbedder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """As in the published LoCoMo: a question cites a turn the conversation does not have."""
    bad = tmp_path / "flawed"
    bad.mkdir()
    (bad / "turns.jsonl").write_bytes((slice_dir / "turns.jsonl").read_bytes())
    rows = _read(slice_dir / "questions.jsonl")
    keep = [r for r in rows if r["conversation_id"] == "conv-b" and r["evidence_dia_ids"]][:3]
    flaw = {**keep[0], "id": "conv-b_q58", "evidence_dia_ids": ["D10:19"]}
    _write(bad / "questions.jsonl", [*keep, flaw])
    store = tmp_path / "never.db"
    with pytest.raises(InputError) as err:
        run_bench(bad, store=f"sqlite:///{store}", strict=True, progress=False, show_table=False)
    assert (err.value.line, err.value.field) == (4, "evidence_dia_ids")
    assert "'D10:19'" in str(err.value) and not store.exists()

    with caplog.at_level(logging.WARNING, logger="graphmem.bench"):
        run = run_conversation_bench(bad, embedder=embedder, progress=False)
    assert run.questions == 3 and "conv-b_q58" not in run.question_ids
    reason = "evidence turn 'D10:19' of conversation 'conv-b' is not in turns.jsonl"
    assert run.to_json()["skipped_questions"] == [{"id": "conv-b_q58", "line": 4, "reason": reason}]
    assert any("skipping 1 of 4 questions" in r.getMessage() for r in caplog.records)
    console = Console(record=True, width=300)
    print_conversation(run, console)
    text = " ".join(console.export_text().split())
    assert f"1 question skipped (gold ids not in the data): conv-b_q58 ({reason})" in text
