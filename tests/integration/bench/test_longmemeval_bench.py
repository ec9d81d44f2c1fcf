"""The LongMemEval harness end to end on the shipped fixture (tests/data/longmemeval_mini: three
questions, each with its own history of a few sessions, one abstention question); real model,
offline extractor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from graphmem.bench.conversation import load_conversation
from graphmem.bench.conversation_runner import print_conversation, run_conversation_bench
from graphmem.bench.longmemeval import session_texts
from graphmem.bench.metrics import sessions_in_rank_order
from graphmem.bench.runner import run_bench
from graphmem.embed.local import LocalEmbedder

MINI = Path(__file__).resolve().parents[2] / "data" / "longmemeval_mini"
TURN_METHODS = ["graphmem", "dense", "bm25"]
SESSION_KEYS = ["recall_any@5", "recall_any@10", "recall_all@5", "recall_all@10"]
TURN_KEYS = ["recall@5", "recall@10", "recall@50", "ndcg@10"]


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def ran(
    embedder: LocalEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("out")
    data = run_bench(
        MINI,
        embedder=embedder,
        extractor="nlp",
        json_path=out / "bench.json",
        per_question=out / "pq.jsonl",
        progress=False,
        show_table=False,
    )
    assert json.loads((out / "bench.json").read_text()) == data
    records = [json.loads(line) for line in (out / "pq.jsonl").read_text().splitlines()]
    return data, records


def test_every_metric_for_the_four_methods(ran: tuple[dict[str, Any], list[Any]]) -> None:
    data, _ = ran
    assert list(data["methods"]) == [*TURN_METHODS, "dense_sessions"]
    assert data["questions"] == {"answerable": 2, "abstention": 1}
    for m in TURN_METHODS:
        scores = data["methods"][m]
        assert list(scores) == [*SESSION_KEYS, *TURN_KEYS, "n", "by_category"]
        assert scores["n"] == 2
        assert set(scores["by_category"]) == {"single-session-user", "multi-session"}
        assert scores["by_category"]["multi-session"]["n"] == 1  # the abstention one is apart
        assert 0 <= scores["recall@5"] <= scores["recall@10"] <= scores["recall@50"] <= 1
        assert scores["recall_all@5"] <= scores["recall_any@5"] <= scores["recall_any@10"]
        assert 0 <= scores["ndcg@10"] <= 1
        # a history of 4 sessions: the top 5 sessions are all of them, if any turn is ranked
        assert scores["recall_all@5"] == 1.0
    dense_sessions = data["methods"]["dense_sessions"]
    assert list(dense_sessions) == [*SESSION_KEYS, "n", "by_category"]
    assert data["abstention"]["ids"] == ["lme-q3_abs"]
    assert set(data["abstention"]["related_sessions"]["dense"]) == {*SESSION_KEYS, "n"}
    t = data["timings"]
    assert t["query_ms_p50"] > 0 and t["dense_query_ms"]["p50"] > 0
    assert t["query_ms_repeat"]["p95"] > 0
    per_conv = t["ingest"]["per_conversation"]
    assert [c["conversation_id"] for c in per_conv] == ["lme-q1", "lme-q2", "lme-q3_abs"]
    assert all(c["ingest_s"] > 0 and c["embed_turns_s"] > 0 for c in per_conv)


def test_nothing_after_the_question_day_is_visible(ran: tuple[dict[str, Any], list[Any]]) -> None:
    """lme-q1 is asked on 25 March; session a1_4 (2 April) renames the dog: no method sees it."""
    _, records = ran
    q1 = next(r for r in records if r["id"] == "lme-q1")
    assert q1["visible_until"].startswith("2023-03-25T23:59:59")
    for m in TURN_METHODS:
        turns = [t for rank in q1[m]["ranks"] for t in rank]
        assert turns, m
        assert not [t for t in turns if t.startswith("a1_4#")], m
        assert "a1_4" not in q1[m]["sessions"]
    assert q1["dense_sessions"]["sessions"] and "a1_4" not in q1["dense_sessions"]["sessions"]


def test_per_question_records_map_turns_to_sessions(ran: tuple[dict[str, Any], list[Any]]) -> None:
    data, records = ran
    assert [r["id"] for r in records] == ["lme-q1", "lme-q2", "lme-q3_abs"]
    ds = load_conversation(MINI)
    session_of = {t.dia_id: t.session_id for t in ds.turns}
    for r in records:
        for m in TURN_METHODS:
            ranks = [tuple(x) for x in r[m]["ranks"]]
            assert r[m]["sessions"] == sessions_in_rank_order(ranks, session_of)[:10]
    q2 = next(r for r in records if r["id"] == "lme-q2")
    assert q2["gold_sessions"] == ["answer_b2_1", "answer_b2_3"]
    # the overall figure is the mean of the two answerable questions' own figures
    for m in TURN_METHODS:
        per = [r[m]["recall@5"] for r in records if not r["abstention"]]
        assert data["methods"][m]["recall@5"] == pytest.approx(np.mean(per), abs=1e-6)
    abst = next(r for r in records if r["abstention"])
    assert abst["gold"] == [] and "recall@5" not in abst["dense"]


def test_dense_sessions_is_cosine_over_whole_sessions(
    ran: tuple[dict[str, Any], list[Any]], embedder: LocalEmbedder
) -> None:
    """Recompute the session baseline outside the harness: one vector per session's text."""
    _, records = ran
    ds = load_conversation(MINI)
    convs = ds.conversations()
    for q in ds.questions:
        keys, texts, times = session_texts(convs[q.conversation_id])
        sims = embedder.embed(texts) @ embedder.embed([q.question], kind="query")[0]
        rec = next(r for r in records if r["id"] == q.id)
        until = rec["visible_until"][:10]
        expected = [
            keys[i]
            for i in np.argsort(-sims, kind="stable")
            if times[i].date().isoformat() <= until
        ]
        assert rec["dense_sessions"]["sessions"] == expected


def test_limit_ingests_only_the_questions_conversations(embedder: LocalEmbedder) -> None:
    run = run_conversation_bench(MINI, embedder=embedder, limit=2, progress=False)
    # round-robin over categories: one single-session-user, one multi-session (answerable first)
    assert run.question_ids == ["lme-q1", "lme-q2"]
    assert list(run.ingest_by_conv) == ["lme-q1", "lme-q2"]
    assert len(run.namespaces) == 2 and run.turns == 32
    console = Console(record=True, width=250)
    print_conversation(run, console)
    text = console.export_text()
    for word in ("dense_sessions", "any@5", "all@10", "NDCG@10", "multi-session (n=1)"):
        assert word in text
    assert "embed their turns alone" in text


def test_a_kept_store_is_not_embedded_again_for_the_ingest_ratio(
    embedder: LocalEmbedder, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'kept.db'}"
    runs = [
        run_conversation_bench(
            MINI, store=store, embedder=embedder, extractor="nlp", progress=False
        )
        for _ in range(2)
    ]
    first, again = (r.to_json()["timings"]["ingest"] for r in runs)
    assert first["ratio"] > 1 and all(c["embed_turns_s"] > 0 for c in first["per_conversation"])
    # nothing new was ingested: no conversation was timed, and no ratio is made up
    assert again["ratio"] is None and again["embed_turns_s"] == 0
    assert all(c["ratio"] is None for c in again["per_conversation"])
