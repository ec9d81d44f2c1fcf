"""Loading and validating benchmark folders: every bad input names its file, line and field."""

from __future__ import annotations

import json
import logging
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from graphmem.bench.data import (
    ConversationDataset,
    MultihopDataset,
    copy_without_triples,
    detect_kind,
    iter_jsonl,
    load_dataset,
)
from graphmem.errors import InputError

DATA = Path(__file__).resolve().parents[2] / "data"
MUSIQUE_SLICE = DATA / "musique_slice"
CONVERSATIONS = DATA / "conversations"


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def corpus_rows(n: int = 3) -> list[dict[str, Any]]:
    return [{"id": f"p{i}", "title": f"T{i}", "text": f"Passage number {i}."} for i in range(n)]


def question_rows() -> list[dict[str, Any]]:
    return [
        {"id": "q0", "question": "What is p0?", "answers": ["x"], "gold_passage_ids": ["p0", "p1"]},
        {
            "id": "q1",
            "question": "What is p2?",
            "answers": [],
            "gold_passage_ids": ["p2"],
            "hops": 1,
        },
    ]


def make_multihop(
    folder: Path,
    corpus: list[Any] | None = None,
    questions: list[Any] | None = None,
    triples: list[Any] | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "corpus.jsonl", corpus if corpus is not None else corpus_rows())
    write_jsonl(folder / "questions.jsonl", questions if questions is not None else question_rows())
    if triples is not None:
        write_jsonl(folder / "triples.jsonl", triples)
    return folder


def error_of(folder: Path, **kwargs: Any) -> InputError:
    kwargs.setdefault("strict", True)
    with pytest.raises(InputError) as info:
        load_dataset(folder, **kwargs)
    return info.value


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


# ------------------------------------------------------------------------------ shipped fixtures


def test_musique_slice_loads_completely() -> None:
    ds = load_dataset(MUSIQUE_SLICE, strict=True)
    assert isinstance(ds, MultihopDataset)
    assert ds.name == "musique_slice"
    assert len(ds.passages) == 110 and len(ds.questions) == 20
    assert ds.triples_path == MUSIQUE_SLICE / "triples.jsonl"
    assert ds.skipped == [] and ds.skipped_questions == []
    corpus_ids = {p.id for p in ds.passages}
    assert all(set(q.gold_ids) <= corpus_ids for q in ds.questions)
    # every question keeps 2 to 4 gold passages in hop order, and its optional fields
    assert sorted({len(q.gold_ids) for q in ds.questions}) == [2, 3, 4]
    assert ds.questions[0].extra["hops"] == "2hop"
    assert set(ds.questions[0].extra["candidate_passage_ids"]) <= corpus_ids
    assert ds.passages[0].document_text == ds.passages[0].title + "\n" + ds.passages[0].text
    # one triples line per passage, as in the full folder
    assert {r["passage_id"] for r in lines_of(ds.triples_path)} == corpus_ids


def test_conversation_fixture_loads_as_conversation() -> None:
    ds = load_dataset(CONVERSATIONS, strict=True)
    assert isinstance(ds, ConversationDataset)
    assert len(ds.turns) == 74 and len(ds.questions) == 23
    convs = ds.conversations()
    assert sorted(convs) == ["conv-a", "conv-b"]
    assert [len(convs[c]) for c in sorted(convs)] == [37, 37]
    assert {t.session for t in ds.turns} == {"1", "2", "3"}
    assert sum(t.blip_caption is not None for t in ds.turns) == 2
    q = ds.questions[1]
    assert q.category == 2 and q.category_name == "temporal" and q.evidence_ids == ("D2:1",)
    assert {q.category for q in ds.questions} == {1, 2, 3, 4, 5}
    assert [q.id for q in ds.questions if not q.evidence_ids] == ["conv-a_q10"]
    turn_ids = {(t.conversation_id, t.dia_id) for t in ds.turns}
    assert all((q.conversation_id, d) in turn_ids for q in ds.questions for d in q.evidence_ids)
    adversarial = [q for q in ds.questions if q.category == 5]
    assert len(adversarial) == 4 and all(q.answer is None for q in adversarial)
    assert all(q.extra["adversarial_answer"] for q in adversarial)


# ------------------------------------------------------------------------------ full benchmark


@pytest.mark.bench
def test_musique_train_loads_completely(bench_dir: Path) -> None:
    musique = bench_dir / "musique_train"
    ds = load_dataset(musique, strict=True)
    assert isinstance(ds, MultihopDataset)
    assert ds.name == "musique_train"
    assert len(ds.passages) == 1890 and len(ds.questions) == 100
    assert ds.triples_path == musique / "triples.jsonl"
    assert ds.skipped == [] and ds.skipped_questions == []
    corpus_ids = {p.id for p in ds.passages}
    assert all(set(q.gold_ids) <= corpus_ids for q in ds.questions)
    # optional fields are kept, not dropped
    assert "hops" in ds.questions[0].extra
    assert ds.passages[0].document_text == ds.passages[0].title + "\n" + ds.passages[0].text


@pytest.mark.bench
def test_locomo_dev_loads_as_conversation(bench_dir: Path) -> None:
    ds = load_dataset(bench_dir / "locomo_dev")
    assert isinstance(ds, ConversationDataset)
    assert len(ds.turns) == 788 and len(ds.questions) == 304 and ds.skipped_questions == []
    assert sorted(ds.conversations()) == ["conv-26", "conv-30"]
    q = ds.questions[0]
    assert q.category == 2 and q.category_name == "temporal" and q.evidence_ids == ("D1:3",)
    turn_ids = {(t.conversation_id, t.dia_id) for t in ds.turns}
    assert all((q.conversation_id, d) in turn_ids for q in ds.questions for d in q.evidence_ids)


# ------------------------------------------------------------------------------ layout


def test_detect_kind(tmp_path: Path) -> None:
    assert detect_kind(make_multihop(tmp_path / "m")) == "multihop"
    conv = tmp_path / "c"
    conv.mkdir()
    (conv / "turns.jsonl").write_text("")
    (conv / "questions.jsonl").write_text("")
    assert detect_kind(conv) == "conversation"


@pytest.mark.parametrize(
    ("files", "needle"),
    [
        ([], "missing corpus.jsonl, questions.jsonl"),
        (["corpus.jsonl"], "missing questions.jsonl"),
        (["questions.jsonl"], "missing corpus.jsonl"),
        (["turns.jsonl"], "missing questions.jsonl"),
        (["corpus.jsonl", "turns.jsonl", "questions.jsonl"], "ambiguous"),
    ],
)
def test_not_a_dataset_folder(tmp_path: Path, files: list[str], needle: str) -> None:
    for name in files:
        (tmp_path / name).write_text("")
    err = error_of(tmp_path)
    assert needle in str(err) and err.path == str(tmp_path)


def test_missing_folder_and_file_instead_of_folder(tmp_path: Path) -> None:
    assert "no such dataset folder" in str(error_of(tmp_path / "nope"))
    f = tmp_path / "corpus.jsonl"
    f.write_text("{}")
    assert "not a folder" in str(error_of(f))


# ------------------------------------------------------------------------------ bad lines


@pytest.mark.parametrize("name", ["corpus.jsonl", "questions.jsonl", "triples.jsonl"])
def test_malformed_json_line_names_file_and_line(tmp_path: Path, name: str) -> None:
    folder = make_multihop(tmp_path, triples=[{"passage_id": "p0", "triples": []}])
    path = folder / name
    lines = path.read_text().splitlines()
    lines.insert(1, '{"id": "broken", "text": ')
    path.write_text("\n".join(lines) + "\n")
    err = error_of(folder)
    assert err.path == str(path) and err.line == 2
    assert "not valid JSON" in str(err)
    assert str(err).startswith(f"{path}:2: ")


def test_non_utf8_file_reports_the_line(tmp_path: Path) -> None:
    folder = make_multihop(tmp_path)
    path = folder / "corpus.jsonl"
    good = path.read_bytes().splitlines()
    bad = '{"id": "p9", "title": "Caf\u00e9", "text": "cr\u00e8me"}'.encode("latin-1")
    path.write_bytes(b"\n".join([good[0], good[1], bad, good[2]]) + b"\n")
    err = error_of(folder)
    assert err.path == str(path) and err.line == 3
    assert "not UTF-8" in str(err) and "0xe9" in str(err)


def test_utf8_bom_and_blank_lines_are_accepted_and_lines_still_counted(tmp_path: Path) -> None:
    folder = make_multihop(tmp_path)
    path = folder / "corpus.jsonl"
    rows = [json.dumps(r) for r in corpus_rows()]
    path.write_bytes(b"\xef\xbb\xbf" + "\n\n".join(rows).encode() + b"\n\n")
    ds = load_dataset(folder)
    assert isinstance(ds, MultihopDataset)
    assert [p.line for p in ds.passages] == [1, 3, 5]


def test_json_that_is_not_an_object(tmp_path: Path) -> None:
    folder = make_multihop(tmp_path, corpus=[*corpus_rows(), '["p3", "x"]'])
    err = error_of(folder)
    assert err.line == 4 and "expected a JSON object, got array" in str(err)


@pytest.mark.parametrize(
    ("row", "field", "needle"),
    [
        ({"title": "t", "text": "x"}, "id", "missing"),
        ({"id": 7, "title": "t", "text": "x"}, "id", "expected a string, got number"),
        ({"id": " ", "title": "t", "text": "x"}, "id", "must not be empty"),
        ({"id": "p9", "title": "t"}, "text", "missing"),
        ({"id": "p9", "title": "t", "text": None}, "text", "got null"),
        ({"id": "p9", "title": ["t"], "text": "x"}, "title", "expected a string or null"),
    ],
)
def test_bad_corpus_field(tmp_path: Path, row: dict[str, Any], field: str, needle: str) -> None:
    folder = make_multihop(tmp_path, corpus=[*corpus_rows(), row])
    err = error_of(folder)
    assert (err.path, err.line, err.field) == (str(folder / "corpus.jsonl"), 4, field)
    assert needle in str(err)


def test_title_may_be_missing_or_null(tmp_path: Path) -> None:
    rows = corpus_rows()
    del rows[0]["title"]
    rows[1]["title"] = None
    ds = load_dataset(make_multihop(tmp_path, corpus=rows))
    assert isinstance(ds, MultihopDataset)
    assert ds.passages[0].document_text == "Passage number 0."
    assert ds.passages[1].document_text == "Passage number 1."


@pytest.mark.parametrize(
    ("row", "field", "needle"),
    [
        ({"id": "q9", "gold_passage_ids": ["p0"]}, "question", "missing"),
        ({"id": "q9", "question": "", "gold_passage_ids": ["p0"]}, "question", "empty"),
        ({"id": "q9", "question": "?"}, "gold_passage_ids", "missing"),
        ({"id": "q9", "question": "?", "gold_passage_ids": "p0"}, "gold_passage_ids", "array"),
        ({"id": "q9", "question": "?", "gold_passage_ids": [0]}, "gold_passage_ids", "item 0"),
        ({"id": "q9", "question": "?", "gold_passage_ids": []}, "gold_passage_ids", "no gold"),
        (
            {"id": "q9", "question": "?", "answers": "x", "gold_passage_ids": ["p0"]},
            "answers",
            "array",
        ),
    ],
)
def test_bad_question_field(tmp_path: Path, row: dict[str, Any], field: str, needle: str) -> None:
    folder = make_multihop(tmp_path, questions=[*question_rows(), row])
    err = error_of(folder)
    assert (err.path, err.line, err.field) == (str(folder / "questions.jsonl"), 3, field)
    assert needle in str(err)


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    folder = make_multihop(
        tmp_path, corpus=[*corpus_rows(), {"id": "p1", "title": "", "text": "y"}]
    )
    err = error_of(folder)
    assert err.line == 4 and "duplicate passage id 'p1' (first on line 2)" in str(err)

    folder = make_multihop(tmp_path / "q", questions=[*question_rows(), question_rows()[0]])
    err = error_of(folder)
    assert err.line == 3 and "duplicate question id 'q0' (first on line 1)" in str(err)


def test_unknown_gold_id_names_question_line_and_id(tmp_path: Path) -> None:
    rows = question_rows()
    rows[1]["gold_passage_ids"] = ["p2", "p404"]
    folder = make_multihop(tmp_path, questions=rows)
    err = error_of(folder)
    assert (err.path, err.line, err.field) == (
        str(folder / "questions.jsonl"),
        2,
        "gold_passage_ids",
    )
    assert "'q1'" in str(err) and "'p404'" in str(err) and "not in corpus.jsonl" in str(err)


def bench_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "graphmem.bench" and r.levelno == logging.WARNING
    ]


def test_unknown_gold_ids_skip_their_questions_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Real data has flaws: the questions whose gold ids dangle are left out, counted, named."""
    rows = question_rows()
    rows += [
        {"id": f"bad{i}", "question": "?", "gold_passage_ids": ["p0", f"p40{i}"]} for i in range(4)
    ]
    rows[3]["gold_passage_ids"] = ["p401", "p0", "p999"]  # two dangling ids, one question
    folder = make_multihop(tmp_path, questions=rows)
    with caplog.at_level(logging.WARNING, logger="graphmem.bench"):
        ds = load_dataset(folder)
    assert isinstance(ds, MultihopDataset)
    assert [q.id for q in ds.questions] == ["q0", "q1"]
    assert [(s.id, s.line) for s in ds.skipped_questions] == [
        ("bad0", 3),
        ("bad1", 4),
        ("bad2", 5),
        ("bad3", 6),
    ]
    where = str(folder / "questions.jsonl")
    assert all(s.path == where for s in ds.skipped_questions)
    assert ds.skipped_questions[0].reason == "gold passage id 'p400' is not in corpus.jsonl"
    assert ds.skipped_questions[1].reason == (
        "gold passage id 'p401' is not in corpus.jsonl (and 1 more gold ids)"
    )
    [warning] = bench_warnings(caplog)
    assert warning.startswith(f"{where}: skipping 4 of 6 questions")
    assert "'bad0' (line 3" in warning and "'bad2' (line 5" in warning
    assert "'bad3'" not in warning and "and 1 more" in warning and "--strict" in warning

    # strict: the first dangling id is the error, with file, line and field
    err = error_of(folder)
    assert (err.path, err.line, err.field) == (where, 3, "gold_passage_ids")
    assert "'bad0'" in str(err) and "'p400'" in str(err)


def test_every_question_dangling_is_an_error(tmp_path: Path) -> None:
    rows = [{"id": f"q{i}", "question": "?", "gold_passage_ids": ["nope"]} for i in range(2)]
    err = error_of(make_multihop(tmp_path, questions=rows), strict=False)
    assert err.path == str(tmp_path / "questions.jsonl")
    assert "no questions left: all 2 were skipped" in str(err) and "'nope'" in str(err)


def test_duplicate_gold_ids_count_once(tmp_path: Path) -> None:
    rows = question_rows()
    rows[0]["gold_passage_ids"] = ["p0", "p1", "p0"]
    ds = load_dataset(make_multihop(tmp_path, questions=rows))
    assert isinstance(ds, MultihopDataset)
    assert ds.questions[0].gold_ids == ("p0", "p1")


# ------------------------------------------------------------------------------ sizes, empties


def test_empty_passage_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [*corpus_rows(), {"id": "p3", "title": "Only a title", "text": "   \n"}]
    with caplog.at_level(logging.WARNING, logger="graphmem.bench"):
        ds = load_dataset(make_multihop(tmp_path, corpus=rows))
    assert isinstance(ds, MultihopDataset)
    assert [p.id for p in ds.passages] == ["p0", "p1", "p2"]
    assert [(s.id, s.line, s.reason) for s in ds.skipped] == [("p3", 4, "empty text")]
    assert any("skipping passage 'p3'" in r.getMessage() for r in caplog.records)


def test_gold_on_a_skipped_passage_skips_the_question(tmp_path: Path) -> None:
    rows = [*corpus_rows(), {"id": "p3", "title": "t", "text": ""}]
    qs = [*question_rows(), {"id": "q2", "question": "?", "gold_passage_ids": ["p3"]}]
    folder = make_multihop(tmp_path, corpus=rows, questions=qs)
    ds = load_dataset(folder)
    assert isinstance(ds, MultihopDataset)
    assert [q.id for q in ds.questions] == ["q0", "q1"]
    [skipped] = ds.skipped_questions
    assert (skipped.id, skipped.line) == ("q2", 3)
    assert "'p3' was skipped (empty text" in skipped.reason and "corpus.jsonl:4" in skipped.reason
    err = error_of(folder)
    assert err.line == 3 and err.field == "gold_passage_ids"
    assert "'p3' was skipped (empty text" in str(err) and "corpus.jsonl:4" in str(err)


def test_all_passages_empty(tmp_path: Path) -> None:
    folder = make_multihop(tmp_path, corpus=[{"id": "p0", "title": "t", "text": ""}])
    err = error_of(folder)
    assert err.path == str(folder / "corpus.jsonl") and "no passages" in str(err)


def test_empty_questions_file(tmp_path: Path) -> None:
    folder = make_multihop(tmp_path, questions=[])
    (folder / "questions.jsonl").write_text("\n")
    assert "no questions" in str(error_of(folder))


def test_ten_megabyte_passage_is_a_fast_clear_error(tmp_path: Path) -> None:
    big = {"id": "p3", "title": "Big", "text": "word " * (2 * 1024 * 1024)}
    folder = make_multihop(tmp_path, corpus=[*corpus_rows(), big])
    t0 = time.perf_counter()
    err = error_of(folder)
    assert time.perf_counter() - t0 < 5
    assert (err.line, err.field) == (4, "text")
    assert "10,485,760 bytes" in str(err) and "1,000,000" in str(err)
    assert "max_passage_bytes" in str(err)
    # the user may raise the limit
    ds = load_dataset(folder, max_passage_bytes=11_000_000)
    assert isinstance(ds, MultihopDataset) and len(ds.passages) == 4


def test_overlong_line_is_cut_off_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"a": 1}\n' + b'{"a": "' + b"x" * 5000 + b'"}\n')
    with pytest.raises(InputError) as info:
        list(iter_jsonl(path, max_line_bytes=1000))
    assert info.value.line == 2 and "longer than 1,000 bytes" in str(info.value)


# ------------------------------------------------------------------------------ triples


@pytest.mark.parametrize(
    ("row", "field", "needle"),
    [
        ({"triples": []}, "passage_id", "missing"),
        ({"passage_id": "p404", "triples": []}, "passage_id", "not in corpus.jsonl"),
        ({"passage_id": "p0", "triples": []}, "passage_id", "duplicate"),
        ({"passage_id": "p1"}, "triples", "missing"),
        ({"passage_id": "p1", "triples": {"s": "p"}}, "triples", "array"),
        ({"passage_id": "p1", "triples": ["a b c"]}, "triples", "item 0"),
        ({"passage_id": "p1", "triples": [], "entities": [1]}, "entities", "item 0"),
    ],
)
def test_bad_triples_line(tmp_path: Path, row: dict[str, Any], field: str, needle: str) -> None:
    good = {"passage_id": "p0", "entities": ["A"], "triples": [["A", "is", "B"]]}
    folder = make_multihop(tmp_path, triples=[good, row])
    err = error_of(folder)
    assert (err.path, err.line, err.field) == (str(folder / "triples.jsonl"), 2, field)
    assert needle in str(err)


def test_malformed_triples_are_left_to_the_extractor(tmp_path: Path) -> None:
    row = {
        "passage_id": "p0",
        "triples": [["A", "B"], ["A", "b", "c", "d"]],
        "malformed_triples": [["x"]],
    }
    ds = load_dataset(make_multihop(tmp_path, triples=[row]))
    assert isinstance(ds, MultihopDataset) and ds.triples_path == tmp_path / "triples.jsonl"


# ------------------------------------------------------------------------------ conversations


def make_conversation(folder: Path, turns: list[Any], questions: list[Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "turns.jsonl", turns)
    write_jsonl(folder / "questions.jsonl", questions)
    return folder


def turn(dia: str, text: str = "hello", conv: str = "c1", **extra: Any) -> dict[str, Any]:
    row = {
        "conversation_id": conv,
        "session": 1,
        "session_time": "1:56 pm on 8 May, 2023",
        "dia_id": dia,
        "speaker": "Ann",
        "text": text,
    }
    row.update(extra)
    return row


def cq(qid: str, evidence: list[str], conv: str = "c1", **extra: Any) -> dict[str, Any]:
    row = {
        "conversation_id": conv,
        "id": qid,
        "question": "When?",
        "answer": "May",
        "category": 2,
        "category_name": "temporal",
        "evidence_dia_ids": evidence,
    }
    row.update(extra)
    return row


def test_conversation_loads_and_skips_empty_turns(tmp_path: Path) -> None:
    turns = [turn("D1:1"), turn("D1:2", ""), turn("D1:3", "", blip_caption="a photo of a dog")]
    ds = load_dataset(make_conversation(tmp_path, turns, [cq("q0", ["D1:1", "D1:3"])]))
    assert isinstance(ds, ConversationDataset)
    assert [t.dia_id for t in ds.turns] == ["D1:1", "D1:3"]
    assert [s.id for s in ds.skipped] == ["c1/D1:2"]
    assert ds.turns[0].session == "1"


@pytest.mark.parametrize(
    ("turns", "questions", "file", "line", "field", "needle"),
    [
        ([turn("D1:1"), turn("D1:1")], [cq("q", [])], "turns", 2, "dia_id", "duplicate turn"),
        ([turn("D1:1", session=None)], [cq("q", [])], "turns", 1, "session", "got null"),
        ([turn("D1:1")], [cq("q", ["D9:9"])], "questions", 1, "evidence_dia_ids", "'D9:9'"),
        ([turn("D1:1")], [cq("q", [], conv="c2")], "questions", 1, "conversation_id", "no turns"),
        ([turn("D1:1")], [cq("q", [], category="2")], "questions", 1, "category", "integer"),
        (
            [turn("D1:1"), turn("D1:2", "")],
            [cq("q", ["D1:2"])],
            "questions",
            1,
            "evidence_dia_ids",
            "skipped",
        ),
        ([turn("D1:1")], [cq("q", []), cq("q", [])], "questions", 2, "id", "duplicate"),
    ],
)
def test_bad_conversation_input(
    tmp_path: Path,
    turns: list[Any],
    questions: list[Any],
    file: str,
    line: int,
    field: str,
    needle: str,
) -> None:
    folder = make_conversation(tmp_path, turns, questions)
    err = error_of(folder)
    assert (err.path, err.line, err.field) == (str(folder / f"{file}.jsonl"), line, field)
    assert needle in str(err)


def test_dangling_evidence_skips_the_question_like_the_published_locomo(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The full LoCoMo release cites evidence turns that are not in it; the rest is still read."""
    folder = tmp_path / "flawed"
    folder.mkdir()
    (folder / "turns.jsonl").write_bytes((CONVERSATIONS / "turns.jsonl").read_bytes())
    rows = lines_of(CONVERSATIONS / "questions.jsonl")
    flawed = [
        {**rows[0], "id": "conv-a_q90", "evidence_dia_ids": ["D1:10", "D10:19"]},
        {**rows[12], "id": "conv-b_q91", "evidence_dia_ids": ["D4:1"]},
        {**rows[0], "id": "conv-a_q92", "conversation_id": "conv-a", "evidence_dia_ids": ["D3:13"]},
    ]  # conv-a has 12 turns in session 3: D3:13 is conv-b's
    write_jsonl(folder / "questions.jsonl", [*rows[:5], flawed[0], *rows[5:], *flawed[1:]])
    with caplog.at_level(logging.WARNING, logger="graphmem.bench"):
        ds = load_dataset(folder)
    assert isinstance(ds, ConversationDataset)
    assert len(ds.questions) == 23 and len(ds.turns) == 74
    assert [(s.id, s.line) for s in ds.skipped_questions] == [
        ("conv-a_q90", 6),
        ("conv-b_q91", 25),
        ("conv-a_q92", 26),
    ]
    assert ds.skipped_questions[0].reason == (
        "evidence turn 'D10:19' of conversation 'conv-a' is not in turns.jsonl"
    )
    [warning] = bench_warnings(caplog)
    assert "skipping 3 of 26 questions" in warning and "'conv-a_q92' (line 26" in warning

    err = error_of(folder)
    assert (err.path, err.line, err.field) == (
        str(folder / "questions.jsonl"),
        6,
        "evidence_dia_ids",
    )
    assert "'conv-a_q90'" in str(err) and "'D10:19'" in str(err)


# ------------------------------------------------------------------------------ groups, copies


def test_identical_texts_form_one_group(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "title": "T", "text": "Same text."},
        {"id": "b", "title": "U", "text": "Other."},
        {"id": "c", "title": "T", "text": "Same text.  "},
        {"id": "d", "title": "U2", "text": "Other."},
    ]
    qs = [{"id": "q", "question": "?", "gold_passage_ids": ["c"]}]
    ds = load_dataset(make_multihop(tmp_path, corpus=rows, questions=qs))
    assert isinstance(ds, MultihopDataset)
    groups = ds.groups()
    assert [g.corpus_ids for g in groups] == [("a", "c"), ("b",), ("d",)]
    assert groups[0].text == "T\nSame text."


def test_copy_without_triples(tmp_path: Path) -> None:
    # a read-only source, as benchmark data usually is; the copy must still be writable
    src = tmp_path / "readonly"
    src.mkdir()
    for f in MUSIQUE_SLICE.glob("*.jsonl"):
        (src / f.name).write_bytes(f.read_bytes())
        (src / f.name).chmod(0o444)
    dst = copy_without_triples(src, tmp_path / "musique_nlp")
    assert sorted(p.name for p in dst.iterdir()) == ["corpus.jsonl", "questions.jsonl"]
    assert (dst / "corpus.jsonl").read_bytes() == (MUSIQUE_SLICE / "corpus.jsonl").read_bytes()
    assert os.stat(dst / "corpus.jsonl").st_mode & stat.S_IWUSR
    ds = load_dataset(dst)
    assert isinstance(ds, MultihopDataset) and ds.triples_path is None and len(ds.questions) == 20

    with pytest.raises(InputError, match="not an empty folder"):
        copy_without_triples(src, dst)
    with pytest.raises(InputError, match="not a multihop folder"):
        copy_without_triples(CONVERSATIONS, tmp_path / "other")
