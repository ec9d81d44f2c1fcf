"""Slots with the real MiniLM and spaCy: labelled relation pairs, and a new user's changes.

The pairs (tests/data/lifecycle/slot_pairs*.jsonl) hold paraphrases of one slot and hard
negatives ("visited" / "moved to", "works with" / "works for", "used to live in", "likes" / "is");
benchmarks/slot_pairs.py prints the sweep that chose the threshold.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from graphmem import Memory
from graphmem.embed.local import LocalEmbedder
from graphmem.ids import entity_id
from graphmem.ingest.slots import THRESHOLD, SlotMatcher
from graphmem.models import Fact

DATA = Path(__file__).resolve().parents[2] / "data" / "lifecycle"
NS = "newuser"


def pair(row: dict[str, list[str]], side: str) -> Fact:
    pred, obj = row[side]
    return Fact(
        id=f"f:{side}",
        subject="e:dana",
        predicate=pred,
        object=f"e:{obj}",
        text=f"Dana {pred} {obj}",
    )


@pytest.mark.parametrize(
    ("name", "least"),
    # the second set was written after the seed and the threshold were chosen
    [("slot_pairs.jsonl", 150), ("slot_pairs_heldout.jsonl", 40)],
)
def test_slot_matching_is_precise_on_labelled_pairs(
    embedder: LocalEmbedder, name: str, least: int
) -> None:
    rows = [json.loads(x) for x in (DATA / name).read_text(encoding="utf-8").splitlines() if x]
    assert len(rows) >= least and sum(not r["same"] for r in rows) >= least // 2
    matcher = SlotMatcher(embedder, THRESHOLD)
    tp = fp = fn = 0
    for row in rows:
        a, b = matcher.slot(pair(row, "a")), matcher.slot(pair(row, "b"))
        said = a is not None and b is not None and a[:2] == b[:2]
        tp += said and row["same"]
        fp += said and not row["same"]
        fn += (not said) and row["same"]
    assert tp / (tp + fp) >= 0.95
    assert tp / (tp + fn) >= 0.75


CHAT = [
    ("s1", "2024-01-10T09:00:00", "I live in Leeds, near the station."),
    ("s1", "2024-01-10T09:02:00", "I work at Hooli as a tester."),
    ("s1", "2024-01-10T09:04:00", "I'm a vegetarian now."),
    ("s1", "2024-01-10T09:06:00", "I visited Paris last month."),
    ("s2", "2024-05-02T18:00:00", "Big news: I relocated to Edinburgh."),
    ("s2", "2024-05-02T18:02:00", "I took a job at Google."),
    ("s3", "2024-09-15T12:00:00", "These days I'm vegan."),
    ("s3", "2024-09-15T12:02:00", "My sister lives in Madrid."),
]


@pytest.fixture(scope="module")
def mem(tmp_path_factory: pytest.TempPathFactory, embedder: LocalEmbedder) -> Iterator[Memory]:
    path = tmp_path_factory.mktemp("slots") / "m.db"
    with Memory(f"sqlite:///{path}", embedder=embedder, extractor="nlp", namespace=NS) as m:
        m.add_episodes(
            [{"session": s, "time": t, "speaker": "Dana", "text": x} for s, t, x in CHAT]
        )
        yield m


def dana_facts(mem: Memory, as_of: datetime | None = None) -> dict[str, Fact]:
    return {f.text: f for f in mem.store.facts_between(NS, [entity_id(NS, "Dana")], as_of=as_of)}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Dana lives in Leeds", "Dana relocated to Edinburgh"),
        ("Dana works at Hooli", "Dana took at Google"),  # the offline extractor's "took a job at"
        ("Dana is vegetarian", "Dana is vegan"),
    ],
)
def test_new_value_ends_the_old_fact_and_links_it(mem: Memory, old: str, new: str) -> None:
    facts = dana_facts(mem)
    was, now = facts[old], facts[new]
    assert was.invalid_at is not None and was.invalid_at == now.valid_at
    assert was.superseded_by == now.id and was.slot == now.slot
    assert now.invalid_at is None and now.expired_at is None
    # nothing deleted: as of before the change, the old fact holds and the new one does not yet
    then = dana_facts(mem, as_of=was.valid_at)
    assert old in then and new not in then


def test_other_facts_stay_open(mem: Memory) -> None:
    facts = dana_facts(mem)
    assert facts["Dana visited Paris"].invalid_at is None


def test_now_questions_lead_with_the_current_value(mem: Memory) -> None:
    asked = datetime(2024, 10, 1, tzinfo=UTC)
    for question, answer in [
        ("Where does Dana live now?", "Edinburgh"),
        ("Where does Dana currently work?", "Google"),
        ("What diet does Dana follow now?", "vegan"),
    ]:
        top = mem.search(question, k=5, include=["episodes"], as_of=asked).episodes[0]
        assert answer in top.episode.text, (question, top.episode.text)
    past = mem.search(
        "Where did Dana live in March 2024?",
        k=5,
        include=["episodes"],
        as_of=datetime(2024, 3, 20, tzinfo=UTC),
    ).episodes[0]
    assert "Leeds" in past.episode.text
