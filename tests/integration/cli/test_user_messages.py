"""What a new user tripped on, each now a clear message instead of silence (issue 21, item 9).

A chat-shaped JSONL ingested as passages, a folder whose ``corpus.jsonl`` hides its other files,
a ``delete --source`` that matches nothing, Ctrl-C in the middle of an ingest, an MCP search with
an empty query, a Latin-1 ``.txt``, and ``k`` limits that differed between the CLI and the API.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from graphmem.errors import InputError
from graphmem.ingest.folders import read_documents
from graphmem.ingest.loaders import FileProblem

ROOT = Path(__file__).resolve().parents[3]
CHAT = (
    '{"text": "I moved to Porto last spring.", "time": "2024-03-01T10:00:00", "speaker": "Ada"}\n'
    '{"text": "How is the weather there?", "time": "2024-03-01T10:01:00", "speaker": "Bob"}\n'
)


def graphmem(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "graphmem.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_chat_shaped_jsonl_without_episodes_says_to_use_episodes(tmp_path: Path) -> None:
    (tmp_path / "chat.jsonl").write_text(CHAT)
    problems: list[FileProblem] = []
    docs = list(read_documents(tmp_path / "chat.jsonl", problems=problems))
    assert len(docs) == 2  # still ingested as asked, but the user is told
    assert [(Path(p.path).name, p.status) for p in problems] == [("chat.jsonl", "warning")]
    assert "--episodes" in problems[0].reason and "speaker" in problems[0].reason
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"text": "Ada lives in Porto.", "time": "2024-03-01"}\n')
    quiet: list[FileProblem] = []
    assert len(list(read_documents(plain, problems=quiet))) == 1 and quiet == []

    done = graphmem(
        "ingest", "chat.jsonl", "--store", "sqlite:///g.db", "--extractor", "none", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "chat.jsonl" in done.stderr and "--episodes" in done.stderr, done.stderr
    episodes = graphmem(
        "ingest",
        "chat.jsonl",
        "--store",
        "sqlite:///e.db",
        "--extractor",
        "none",
        "--episodes",
        cwd=tmp_path,
    )
    assert episodes.returncode == 0 and "--episodes" not in episodes.stderr, episodes.stderr


def test_a_folder_with_corpus_jsonl_names_the_files_it_leaves_out(tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl").write_text('{"id": "p1", "text": "Ada lives in Porto."}\n')
    (tmp_path / "questions.jsonl").write_text('{"id": "q1", "question": "Where?"}\n')
    (tmp_path / "notes.md").write_text("# Notes\n\nBob lives in Lisbon.\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "more.txt").write_text("Carol lives in Braga.")
    problems: list[FileProblem] = []
    docs = list(read_documents(tmp_path, problems=problems))
    assert [d.source for d in docs] == ["p1"]
    assert len(problems) == 1 and problems[0].status == "skipped", problems
    reason = problems[0].reason
    assert "corpus.jsonl" in reason and "notes.md" in reason and "sub/more.txt" in reason
    assert "questions.jsonl" not in reason  # a benchmark folder's companion, not a document
    (tmp_path / "notes.md").unlink()
    (tmp_path / "sub" / "more.txt").unlink()
    alone: list[FileProblem] = []
    assert len(list(read_documents(tmp_path, problems=alone))) == 1 and alone == []


def test_delete_of_a_source_that_matches_nothing_says_so_and_suggests(tmp_path: Path) -> None:
    (tmp_path / "docs" / "eng").mkdir(parents=True)
    (tmp_path / "docs" / "eng" / "notes.md").write_text("# Notes\n\nAda lives in Porto.\n")
    (tmp_path / "docs" / "todo.txt").write_text("Bob lives in Lisbon.")
    store = "sqlite:///g.db"
    done = graphmem("ingest", "docs", "--store", store, "--extractor", "none", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    miss = graphmem("delete", "--source", "notes.md", "--store", store, cwd=tmp_path)
    assert miss.returncode == 1, miss.stdout + miss.stderr
    assert "notes.md" in miss.stderr and "eng/notes.md" in miss.stderr, miss.stderr
    assert "todo.txt" not in miss.stderr
    prefix = graphmem("delete", "--source-prefix", "wiki/", "--store", store, cwd=tmp_path)
    assert prefix.returncode == 1 and "wiki/" in prefix.stderr, prefix.stderr
    hit = graphmem("delete", "--source", "eng/notes.md", "--store", store, cwd=tmp_path)
    assert hit.returncode == 0 and '"passages": 1' in hit.stdout, hit.stdout + hit.stderr


def _passages(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute("SELECT count(*) FROM passages").fetchone()
        return int(row[0])
    except sqlite3.Error:
        return 0


def test_ctrl_c_during_an_ingest_says_where_it_stopped_and_how_to_resume(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    n = 600
    for i in range(n):
        (docs / f"n{i:04d}.txt").write_text(f"Note {i}: person{i} met person{i + 1} in town{i}.")
    db = tmp_path / "g.db"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    args = [
        sys.executable,
        "-m",
        "graphmem.cli",
        "ingest",
        "docs",
        "--store",
        f"sqlite:///{db}",
        "--extractor",
        "none",
        "--batch-size",
        "4",
    ]
    proc = subprocess.Popen(
        args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while _passages(db) < 16 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the ingest ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    stored = _passages(db)
    assert 0 < stored < n
    assert "interrupted" in err.lower() and "Traceback" not in err, err
    assert f"{stored} passage" in err, err  # how far it got
    assert "again" in err and "resume" in err, err
    again = subprocess.run(
        args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert again.returncode == 0, again.stderr
    assert _passages(db) == n


def test_an_empty_mcp_query_asks_for_a_question(tmp_path: Path) -> None:
    from support.mcp import stdio_client

    async def main() -> None:
        async with stdio_client(f"sqlite:///{tmp_path / 'm.db'}", "q") as c:
            for tool in ("search_memory", "search_facts"):
                r = await c.call_tool(tool, {"query": "   "})
                said = " ".join(getattr(b, "text", "") for b in r.content)
                assert r.is_error and "query is empty" in said, said
                assert "remember" not in said and "question" in said, said
            r = await c.call_tool("add_memory", {"text": ""})
            said = " ".join(getattr(b, "text", "") for b in r.content)
            assert r.is_error and "text to remember" in said, said

    anyio.run(main)


def test_a_latin1_text_file_is_read_with_a_warning_naming_it(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "café.txt").write_bytes(
        "Café Müller opened in Zürich – in 1998.".encode("cp1252")
    )
    (tmp_path / "docs" / "plain.txt").write_text("Ada lives in Porto.")
    problems: list[FileProblem] = []
    docs = {d.source: d for d in read_documents(tmp_path / "docs", problems=problems)}
    assert docs["café.txt"].text == "Café Müller opened in Zürich – in 1998."
    assert [(Path(p.path).name, p.status) for p in problems] == [("café.txt", "warning")]
    assert "UTF-8" in problems[0].reason and "cp1252" in problems[0].reason
    (tmp_path / "docs" / "odd.md").write_bytes("# Über\n\nJosé \x81 Núñez".encode("latin-1"))
    problems.clear()
    docs = {d.source: d for d in read_documents(tmp_path / "docs", problems=problems)}
    assert "José" in docs["odd.md"].text and "Núñez" in docs["odd.md"].text
    assert {Path(p.path).name for p in problems} == {"café.txt", "odd.md"}

    done = graphmem(
        "ingest", "docs", "--store", "sqlite:///g.db", "--extractor", "none", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "café.txt" in done.stderr and "UTF-8" in done.stderr, done.stderr


def test_one_k_limit_for_every_surface(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from graphmem.cli import app
    from graphmem.mcp.tools import ToolError, check_k
    from graphmem.retrieve.search import MAX_K, check_query
    from graphmem_api.limits import Limits

    assert Limits().max_k == MAX_K
    check_query("a question", k=MAX_K, namespace="default")
    check_k(MAX_K)
    with pytest.raises(InputError, match="k must be between"):
        check_query("a question", k=MAX_K + 1, namespace="default")
    with pytest.raises(ToolError, match=f"between 1 and {MAX_K}"):
        check_k(MAX_K + 1)
    over = CliRunner().invoke(
        app, ["search", "q", "-k", str(MAX_K + 1), "--store", f"sqlite:///{tmp_path / 'none.db'}"]
    )
    assert over.exit_code == 2 and str(MAX_K) in over.output, over.output
