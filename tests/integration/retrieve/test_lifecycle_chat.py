"""The small lifecycle chat (tests/data/lifecycle/chat, from benchmarks/lifecycle_gen.py --people 4
--seed 1): people change home, employer, diet, job and partner in other words among noise turns.
"Now" questions lead with the turn of the current value; questions about a month, asked as of it,
with the turn of the value then; a stale value rarely comes first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from graphmem import Memory
from graphmem.embed.local import LocalEmbedder

DATA = Path(__file__).resolve().parents[2] / "data" / "lifecycle" / "chat"


def rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (DATA / name).read_text(encoding="utf-8").splitlines() if x]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def mem(tmp_path_factory: pytest.TempPathFactory, embedder: LocalEmbedder) -> Iterator[Memory]:
    path = tmp_path_factory.mktemp("lifecycle") / "m.db"
    with Memory(f"sqlite:///{path}", embedder=embedder, extractor="nlp") as m:
        by_person: dict[str, list[dict[str, Any]]] = {}
        for t in rows("turns.jsonl"):
            by_person.setdefault(t["conversation_id"], []).append(t)
        for person, turns in by_person.items():
            m.add_episodes(
                [
                    {
                        "text": t["text"],
                        "time": t["session_time"],
                        "speaker": t["speaker"],
                        "session": t["session"],
                        "metadata": {"dia_id": t["dia_id"]},
                    }
                    for t in turns
                ],
                namespace=person,
            )
        yield m


def test_current_and_past_values_come_first(mem: Memory) -> None:
    top: dict[str, str] = {}
    questions = [q for q in rows("questions.jsonl") if q["category_name"] in ("current", "past")]
    for q in questions:
        res = mem.search(
            q["question"],
            k=5,
            include=["episodes"],
            as_of=utc(q["as_of"] or q["question_time"]),
            namespace=q["conversation_id"],
        )
        top[q["id"]] = str(res.episodes[0].episode.metadata["dia_id"]) if res.episodes else ""

    def share(kind: str, field: str) -> float:
        qs = [q for q in questions if q["category_name"] == kind]
        return sum(top[q["id"]] in q[field] for q in qs) / len(qs)

    assert share("current", "evidence_dia_ids") >= 0.9
    assert share("past", "evidence_dia_ids") >= 0.85
    assert share("current", "stale_dia_ids") <= 0.05
