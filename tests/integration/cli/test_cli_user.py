"""What a new user hit with ``graphmem`` (issue 12 §3): typos never create a store, read-only
commands say the store is empty, bad options are one line, help is not cut at 80 columns.

Subprocess tests run ``python -m graphmem.cli`` as a user does (stdout and stderr are pipes, no
``COLUMNS``); the rest use typer's CliRunner in process.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from graphmem.cli import app
from graphmem.store import open_store

ROOT = Path(__file__).resolve().parents[3]


def graphmem(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "TERMINAL_WIDTH"}}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.pop("GRAPHMEM_STORE", None)
    env.pop("GRAPHMEM_NAMESPACE", None)
    return subprocess.run(
        [sys.executable, "-m", "graphmem.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


@pytest.mark.parametrize(
    "url", ["sqlite:data/x.db", "sqlite:/x.db", "sqlite://x.db", "neo4j:host", "mysql://x"]
)
def test_a_malformed_store_url_is_refused_and_creates_nothing(tmp_path: Path, url: str) -> None:
    (tmp_path / "docs.txt").write_text("Ada lives in Lisbon.\n")
    done = graphmem("ingest", "docs.txt", "--store", url, cwd=tmp_path)
    assert done.returncode == 2
    line = one_error_line(done)
    assert line.startswith("error:") and repr(url) in line
    for form in ("sqlite:///relative.db", "sqlite:////absolute.db", "neo4j://", "bolt://"):
        assert form in line
    assert "falkordb://" in line
    assert [p.name for p in tmp_path.iterdir()] == ["docs.txt"]


def test_read_only_commands_on_a_missing_store_create_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRAPHMEM_STORE", raising=False)
    commands = [
        ["search", "Where does Ada live?"],
        ["stats"],
        ["viz", "Where does Ada live?", "-o", "page.html"],
        ["export", "-o", "out.jsonl"],
        ["delete", "--source", "x"],
        ["search", "Where does Ada live?", "--store", "sqlite:///sub/m.db"],
    ]
    for args in commands:
        done = run(*args)
        assert done.exit_code == 1, (args, done.output)
        assert "empty store:" in done.output and "run graphmem ingest" in done.output, args
        assert "graphmem.db" in done.output or "sub/m.db" in done.output
    assert list(tmp_path.iterdir()) == []


def test_read_only_commands_on_an_empty_namespace(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    open_store(f"sqlite:///{db}").close()  # a store that exists and holds nothing
    store = f"sqlite:///{db}"
    page = tmp_path / "page.html"
    for args in (
        ["search", "Where does Ada live?"],
        ["viz", "Where does Ada live?", "-o", str(page)],
        ["export", "-o", str(tmp_path / "out.jsonl")],
        ["delete", "--all"],
    ):
        done = run(*args, "--store", store, "-n", "team-a")
        assert done.exit_code == 1, (args, done.output)
        assert "empty store:" in done.output and "'team-a'" in done.output
        assert f"run graphmem ingest PATH --store {store} -n team-a first" in done.output
    assert not page.exists() and not (tmp_path / "out.jsonl").exists()

    # stats: zeros are a true answer (exit 0), the hint goes to stderr
    counted = CliRunner().invoke(app, ["stats", "--store", store], catch_exceptions=False)
    assert counted.exit_code == 0
    assert json.loads(counted.stdout)["passages"] == 0
    assert "empty store:" in counted.stderr


def test_an_ingest_of_a_missing_path_creates_no_database(tmp_path: Path) -> None:
    done = graphmem("ingest", "no-such-folder", "--store", "sqlite:///m.db", cwd=tmp_path)
    assert done.returncode == 2
    assert "no-such-folder: no such file or folder" in one_error_line(done)
    assert list(tmp_path.iterdir()) == []


def test_a_bad_namespace_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    for args in (["stats", "-n", "bad ns"], ["search", "who?", "-n", "bad ns"]):
        done = graphmem(*args, "--store", "sqlite:///m.db", cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        line = one_error_line(done)
        assert line.startswith("error: --namespace: invalid namespace 'bad ns'")
    assert list(tmp_path.iterdir()) == []


def test_help_is_not_cut_at_80_columns_and_names_the_default_store(tmp_path: Path) -> None:
    top = graphmem("--help", cwd=tmp_path)
    assert top.returncode == 0
    assert max(len(line) for line in top.stdout.splitlines()) > 100
    # the help's words, out of their box and lines (a long help text still wraps, within 120)
    search = " ".join(
        re.sub("[│╭╮╰╯─]", " ", graphmem("search", "--help", cwd=tmp_path).stdout).split()
    )
    assert "--between" in search and "START END" in search
    assert "default sqlite:///graphmem.db" in search and "current folder" in search
    assert "(env GRAPHMEM_STORE" in search and "(env GRAPHMEM_NAMESPACE)" in search
    serve = graphmem("serve", "--help", cwd=tmp_path).stdout
    assert "/graphiql" in serve


def test_a_busy_port_error_is_one_unwrapped_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = graphmem(
            "serve",
            "--store",
            "sqlite:///g.db",
            "--port",
            str(port),
            "--extractor",
            "none",
            cwd=tmp_path,
        )
    assert done.returncode == 2
    line = one_error_line(done)
    assert len(line) > 80 and "already in use" in line and "--port" in line


@pytest.mark.parametrize(
    ("between", "message"),
    [
        (("yesterday", "2021-01-01"), "START 'yesterday' is not an ISO 8601 date"),
        (("2021-01-01", "soon"), "END 'soon' is not an ISO 8601 date"),
        (("2022-01-01", "2021-01-01"), "START 2022-01-01 is after END 2021-01-01"),
        # a time without a zone is UTC, as on every surface: 01:00+02:00 is 23:00 UTC the day before
        (("2021-01-01T00:00", "2021-01-01T01:00+02:00"), "START 2021-01-01T00:00 is after END"),
    ],
)
def test_between_parsing_errors(tmp_path: Path, between: tuple[str, str], message: str) -> None:
    done = graphmem("search", "who?", "--between", *between, cwd=tmp_path)
    assert done.returncode == 2
    line = one_error_line(done)
    assert line.startswith("error: --between:") and message in line
    assert list(tmp_path.iterdir()) == []
