"""LongMemEval's metrics on hand-computed cases: turns mapped to sessions in rank order,
recall_any/recall_all over the first k sessions, NDCG with binary gains; and the stratified
question slice."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphmem.bench.conversation import ConversationQuestion, load_conversation, stratified
from graphmem.bench.longmemeval import (
    aggregate,
    end_of_day,
    question_scores,
    question_times,
    score_sessions,
    session_golds,
)
from graphmem.bench.metrics import (
    all_found_at_k,
    ndcg_at_k,
    recall_any_at_k,
    sessions_in_rank_order,
)
from graphmem.errors import InputError

MINI = Path(__file__).resolve().parents[2] / "data" / "longmemeval_mini"

# six ranked turns of four sessions; a turn id is "<session>#<index>", as in LongMemEval
TURNS = ["s2#1", "s1#0", "s2#3", "s3#0", "s1#4", "s4#2"]
SESSION_OF = {t: t.split("#")[0] for t in TURNS}


def test_turns_map_to_sessions_in_rank_order_each_once() -> None:
    assert sessions_in_rank_order(TURNS, SESSION_OF) == ["s2", "s1", "s3", "s4"]
    # a rank standing for two identical turns, and a turn of no known session (takes no place)
    ranked = [("s5#0", "s5#1"), "unknown#9", "s1#0"]
    assert sessions_in_rank_order(ranked, {**SESSION_OF, "s5#0": "s5", "s5#1": "s5"}) == [
        "s5",
        "s1",
    ]


def test_recall_any_and_all_count_sessions_not_turns() -> None:
    sessions = sessions_in_rank_order(TURNS, SESSION_OF)
    gold = ["s1", "s4"]
    assert recall_any_at_k(sessions, gold, 1) == 0.0
    assert recall_any_at_k(sessions, gold, 2) == 1.0
    assert not all_found_at_k(sessions, gold, 3)
    # the first 4 *turns* hold s2, s1, s2, s3 (no s4); the first 4 *sessions* hold s4
    assert all_found_at_k(sessions, gold, 4)
    assert not all_found_at_k(TURNS, ["s1#0", "s4#2"], 4)
    row = question_scores([(t,) for t in TURNS], ["s4#2"], sessions, gold, [5, 10])
    assert row == {
        "recall_any@5": 1.0,
        "recall_any@10": 1.0,
        "recall_all@5": 1.0,
        "recall_all@10": 1.0,
        "recall@5": 0.0,
        "recall@10": 1.0,
        "ndcg@10": pytest.approx(1 / math.log2(7)),
    }


def test_ndcg_hand_computed() -> None:
    # gold at ranks 2 and 4: (1/log2 3 + 1/log2 5) / (1 + 1/log2 3)
    assert ndcg_at_k(["x", "g1", "y", "g2"], ["g1", "g2"], 10) == pytest.approx(
        (0.6309298 + 0.4306766) / 1.6309298, abs=1e-6
    )
    assert ndcg_at_k(["g1", "g2", "x"], ["g2", "g1"], 10) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "y", "g1"], ["g1"], 2) == 0.0
    # one rank holding two gold ids gains once: 1 / (1 + 1/log2 3)
    assert ndcg_at_k([("g1", "g2")], ["g1", "g2"], 10) == pytest.approx(1 / 1.6309298, abs=1e-6)
    # the ideal counts at most k gold ranks
    assert ndcg_at_k(["g1", "g2"], ["g1", "g2", "g3"], 2) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        ndcg_at_k(["a"], [], 10)


@given(
    st.lists(st.sampled_from("abcdefgh"), max_size=12),
    st.sets(st.sampled_from("abcdefgh"), min_size=1),
    st.integers(1, 12),
)
def test_ndcg_is_within_0_and_1_and_all_implies_any(
    ranking: list[str], gold: set[str], k: int
) -> None:
    value = ndcg_at_k(ranking, gold, k)
    assert 0.0 <= value <= 1.0 + 1e-12
    if all_found_at_k(ranking, gold, k):
        assert recall_any_at_k(ranking, gold, k) == 1.0


def test_scores_average_only_questions_that_have_the_metric() -> None:
    rows = [
        {"recall_any@5": 1.0, "recall@5": 0.5},
        {"recall_any@5": 0.0},  # no evidence turns: no turn metric
        {"recall_any@5": 1.0, "recall@5": 1.0},
    ]
    assert aggregate(rows) == {"recall_any@5": pytest.approx(2 / 3), "recall@5": 0.75, "n": 3}
    scored = score_sessions(["b", "a", "b"], rows)
    assert scored["by_category"]["a"] == {"recall_any@5": 0.0, "n": 1}
    assert scored["by_category"]["b"]["recall@5"] == 0.75
    assert list(scored["by_category"]) == ["a", "b"]


def _q(i: int, cat: int, abstention: bool = False) -> ConversationQuestion:
    extra = {"abstention": True} if abstention else {}
    return ConversationQuestion("c", f"q{i}", "?", None, cat, f"t{cat}", (), i, extra)


def test_stratified_slice_is_round_robin_over_categories_abstention_last() -> None:
    qs = [_q(0, 2, abstention=True), _q(1, 2), _q(2, 2), _q(3, 1), _q(4, 1), _q(5, 3)]
    picked = [q.id for q in stratified(qs, 4)]
    # round 1: t1 q3, t2 q1 (the abstention one waits), t3 q5; round 2: t1 q4
    assert picked == ["q1", "q3", "q4", "q5"]
    assert [q.id for q in stratified(qs, 2)] == ["q1", "q3"]
    assert stratified(qs, None) == qs and stratified(qs, 99) == qs
    assert stratified(qs, 4) == stratified(list(qs), 4)


def test_question_times_are_the_end_of_the_question_day() -> None:
    ds = load_conversation(MINI)
    times = question_times(ds)
    assert times["lme-q1"] == datetime(2023, 3, 25, 23, 59, 59, 999999, tzinfo=UTC)
    assert end_of_day(datetime(2023, 5, 20, 2, 21, tzinfo=UTC)).date().day == 20
    golds = session_golds(ds)
    assert golds["lme-q2"].sessions == ("answer_b2_1", "answer_b2_3")
    assert golds["lme-q3_abs"].abstention and not golds["lme-q1"].abstention


def test_an_unreadable_question_time_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "turns.jsonl").write_bytes((MINI / "turns.jsonl").read_bytes())
    rows = (MINI / "questions.jsonl").read_text().splitlines()
    rows[1] = rows[1].replace("2023/03/05 (Sun) 09:00", "the day after the concert")
    (tmp_path / "questions.jsonl").write_text("\n".join(rows) + "\n")
    with pytest.raises(InputError) as err:
        question_times(load_conversation(tmp_path))
    assert (err.value.line, err.value.field) == (2, "question_time")
