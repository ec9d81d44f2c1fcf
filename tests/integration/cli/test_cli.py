"""The ``graphmem`` command end to end, on a real SQLite file, spaCy and MiniLM (in process).

The LLM path runs against the scripted OpenAI-compatible server of ``tests/support/fake_openai.py``
(its real llama.cpp counterpart is ``test_llm_llamacpp.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from graphmem.cli import app, main

from support.fake_openai import Answer, FakeOpenAI, ok, status

DOCS = [
    {"id": "austen", "text": "Jane Austen was born in Steventon, a village in Hampshire."},
    {"id": "emma", "text": "Emma is a novel written by Jane Austen in 1815."},
    {"id": "bled", "text": "Bled is a town in Slovenia on Lake Bled."},
]


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    return result


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in DOCS))
    return path


def test_ingest_search_stats_delete_export(corpus: Path, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'm.db'}"
    first = run("ingest", str(corpus), "--store", store)
    assert first.exit_code == 0, first.output
    assert "passages_added" in first.output and "3" in first.output

    again = run("ingest", str(corpus), "--store", store)
    assert again.exit_code == 0
    assert "passages_skipped" in again.output and "passages_added" not in again.output

    found = run("search", "Where was the author of Emma born?", "--store", store, "--json")
    assert found.exit_code == 0, found.output
    result = json.loads(found.output)
    sources = [h["passage"]["source"] for h in result["passages"]]
    assert {"austen", "emma"} <= set(sources[:3])

    shown = run("search", "Where was the author of Emma born?", "--store", store, "-k", "2")
    assert shown.exit_code == 0 and "Steventon" in shown.output and "score" in shown.output

    stats = json.loads(run("stats", "--store", store).output)
    assert stats["passages"] == 3 and stats["entities"] > 0

    out = tmp_path / "export.jsonl"
    exported = run("export", "--store", store, "-o", str(out))
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sum(1 for r in lines if r["type"] == "node" and r["kind"] == "passage") == 3

    deleted = json.loads(run("delete", "--source", "bled", "--store", store).output)
    assert deleted["passages"] == 1
    assert json.loads(run("stats", "--store", store).output)["passages"] == 2


def test_namespaces_come_from_the_option_or_the_environment(corpus: Path, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'm.db'}"
    assert run("ingest", str(corpus), "--store", store, "-n", "team-a").exit_code == 0
    # an empty namespace: zeros on stdout, the "empty store" hint on stderr
    other = json.loads(
        run("stats", env={"GRAPHMEM_STORE": store, "GRAPHMEM_NAMESPACE": "b"}).stdout
    )
    mine = json.loads(
        run("stats", env={"GRAPHMEM_STORE": store, "GRAPHMEM_NAMESPACE": "team-a"}).output
    )
    assert other["passages"] == 0 and mine["passages"] == 3


def test_bad_input_is_one_clear_line_and_exit_code_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": 3}\n')
    db = tmp_path / "m.db"
    monkeypatch.setattr("sys.argv", ["graphmem", "ingest", str(bad), "--store", f"sqlite:///{db}"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert f"{bad}:2" in message and "'text'" in message
    assert "Traceback" not in message


def test_episodes_from_a_conversation_file(tmp_path: Path) -> None:
    turns = tmp_path / "turns.jsonl"
    rows = [
        {
            "conversation_id": "c1",
            "session": 1,
            "session_time": "1:56 pm on 8 May, 2023",
            "dia_id": "D1:1",
            "speaker": "Ada",
            "text": "I started a new job at Acme in Lisbon.",
        },
        {
            "conversation_id": "c1",
            "session": 1,
            "session_time": "1:56 pm on 8 May, 2023",
            "dia_id": "D1:2",
            "speaker": "Bob",
            "text": "Congratulations on the job at Acme!",
        },
    ]
    turns.write_text("".join(json.dumps(r) + "\n" for r in rows))
    store = f"sqlite:///{tmp_path / 'm.db'}"
    done = run("ingest", str(turns), "--episodes", "--store", store)
    assert done.exit_code == 0, done.output
    assert json.loads(run("stats", "--store", store).output)["episodes"] == 2
    found = run("search", "Where does Ada work?", "--store", store, "--include", "episodes")
    assert found.exit_code == 0 and "Acme" in found.output and "episode" in found.output

    missing = tmp_path / "missing.jsonl"
    missing.write_text('{"text": "no time here"}\n')
    with pytest.raises(Exception, match=r"missing.jsonl:1: field 'time'"):
        CliRunner().invoke(
            app, ["ingest", str(missing), "--episodes", "--store", store], catch_exceptions=False
        )


def _llm_answer(body: dict[str, Any], _n: int) -> Answer:
    text = body["messages"][-1]["content"]
    if "Bled" in text:
        return status(500, message="the model crashed")
    triples = {
        "named_entities": ["Jane Austen", "Steventon"],
        "triples": [["Jane Austen", "born in", "Steventon"]],
    }
    return ok(json.dumps(triples), usage=(120, 30, 0))


def test_llm_extractor_options_usage_and_retry_failed(corpus: Path, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'm.db'}"
    with FakeOpenAI(_llm_answer) as server:
        args = [
            "ingest",
            str(corpus),
            "--store",
            store,
            "--extractor",
            "llm",
            "--llm-base-url",
            server.url,
            "--llm-model",
            "test-model",
            "--llm-api-key",
            "sk-test",
            "--llm-concurrency",
            "2",
        ]
        env = {"GRAPHMEM_LLM_MAX_RETRIES": "1"}
        first = run(*args, env=env)
        assert first.exit_code == 0, first.output
        assert "llm calls" in first.output and "llm prompt_tokens" in first.output
        assert "passages_failed" in first.output and "--retry-failed" in first.output
        assert {r["model"] for r in server.requests} == {"test-model"}
        calls = len(server.requests)

        # the two good passages are cached: a retry asks only for the failed one (twice: 1 retry)
        again = run(*args, "--retry-failed", env=env)
        assert again.exit_code == 0, again.output
        assert len(server.requests) == calls + 2
        stats = json.loads(run("stats", "--store", store).output)
        assert stats["passages"] == 3 and stats["failed_passages"] == 1


def test_unknown_extractor_and_bad_store_are_config_errors(corpus: Path) -> None:
    with pytest.raises(Exception, match="unknown extractor 'magic'"):
        CliRunner().invoke(
            app, ["ingest", str(corpus), "--extractor", "magic"], catch_exceptions=False
        )
    with pytest.raises(Exception, match="unknown store URL"):
        CliRunner().invoke(app, ["stats", "--store", "mysql://x"], catch_exceptions=False)


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    made = run("keys", "create", "--file", str(keys), "-n", "team-a", "--id", "a")
    assert made.exit_code == 0
    token = made.stdout.strip().splitlines()[0]
    assert token and token not in keys.read_text()  # only the hash is stored
    listed = run("keys", "list", "--file", str(keys))
    assert listed.stdout.startswith("a\tteam-a\tread-write")
    assert run("keys", "revoke", "--file", str(keys), "--id", "a").exit_code == 0
    assert run("keys", "list", "--file", str(keys)).stdout == ""


def test_schema_command_prints_the_checked_in_schema() -> None:
    printed = run("schema").stdout
    checked_in = (Path(__file__).parents[3] / "schema" / "schema.graphql").read_text()
    assert printed.strip() == checked_in.strip()


def test_bench_with_the_llm_extractor_end_to_end(tmp_path: Path) -> None:
    """``graphmem bench DIR --extractor llm``: the corpus goes through the LLM (every passage one
    request), and the run writes the published JSON."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    corpus = [{"id": d["id"], "title": d["id"].title(), "text": d["text"]} for d in DOCS]
    questions = [
        {
            "id": "q1",
            "question": "Where was the author of Emma born?",
            "answers": ["Steventon"],
            "gold_passage_ids": ["emma", "austen"],
        }
    ]
    for name, rows in (("corpus", corpus), ("questions", questions)):
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "bench.json"

    def answer(body: dict[str, Any], _n: int) -> Answer:
        if "Bled" in body["messages"][-1]["content"]:
            return ok(
                json.dumps(
                    {
                        "named_entities": ["Bled", "Slovenia"],
                        "triples": [["Bled", "is in", "Slovenia"]],
                    }
                )
            )
        return _llm_answer(body, _n)

    with FakeOpenAI(answer) as server:
        done = run(
            "bench",
            str(folder),
            "--extractor",
            "llm",
            "--llm-base-url",
            server.url,
            "--llm-model",
            "bench-model",
            "--json",
            str(out),
        )
        assert done.exit_code == 0, done.output
        # one extraction per passage, then one question-NER call per search (the warm-up too)
        assert len(server.requests) == len(DOCS) + 2
    data = json.loads(out.read_text())
    assert data["extractor"] == "llm:bench-model" and data["kind"] == "multihop"
    assert set(data["methods"]) == {"graphmem", "dense", "bm25"}
    assert 0.0 <= data["methods"]["graphmem"]["recall@5"] <= 1.0
