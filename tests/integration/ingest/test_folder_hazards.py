"""Folder ingest with links, FIFOs and bad file names (issue 21, items 2 and 7).

A file symlink pointing outside the folder was followed (its text stored); a FIFO was silently
passed over; a file name that is not UTF-8 aborted the whole folder (TypeError in chunking).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphmem.ingest.loaders import FileProblem, read_documents

REPO = Path(__file__).resolve().parents[3]


def graphmem(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-c", "from graphmem.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("OUTSIDE SECRET: the vault code is 4471.")
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "notes.md").write_text("# Notes\n\nAda Lovelace wrote the first program.")
    (docs / "sub" / "inside.txt").write_text("Grace Hopper built a compiler.")
    (docs / "leak.txt").symlink_to(outside / "secret.txt")
    (docs / "alias.txt").symlink_to(docs / "sub" / "inside.txt")  # stays inside: followed
    os.mkfifo(docs / "pipe.md")
    return docs


def test_links_leaving_the_folder_and_fifos_are_skipped_and_reported(folder: Path) -> None:
    problems: list[FileProblem] = []
    docs = list(read_documents(folder, problems=problems))
    texts = " ".join(d.text for d in docs)
    assert "OUTSIDE SECRET" not in texts
    assert sorted(d.source or "" for d in docs) == ["alias.txt", "notes.md", "sub/inside.txt"]
    why = {Path(p.path).name: (p.status, p.reason) for p in problems}
    assert why["leak.txt"][0] == "skipped" and "outside the folder" in why["leak.txt"][1]
    assert "--follow-symlinks" in why["leak.txt"][1]
    assert why["pipe.md"][0] == "skipped" and "FIFO" in why["pipe.md"][1]


def test_follow_symlinks_reads_the_outside_file(folder: Path) -> None:
    problems: list[FileProblem] = []
    docs = list(read_documents(folder, problems=problems, follow_symlinks=True))
    assert any("OUTSIDE SECRET" in d.text for d in docs)
    assert [Path(p.path).name for p in problems] == ["pipe.md"]


def test_cli_ingest_reports_the_link_and_the_fifo(folder: Path, tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    out = graphmem("ingest", str(folder), "--store", f"sqlite:///{db}", "--extractor", "none")
    assert "leak.txt" in out.stderr and "pipe.md" in out.stderr, out.stderr
    dump = graphmem("export", "--store", f"sqlite:///{db}", "-o", str(tmp_path / "x.jsonl"))
    assert dump.returncode == 0, dump.stderr
    assert "OUTSIDE SECRET" not in (tmp_path / "x.jsonl").read_text()
    again = graphmem(
        "ingest",
        str(folder),
        "--store",
        f"sqlite:///{tmp_path / 'h.db'}",
        "--extractor",
        "none",
        "--follow-symlinks",
    )
    assert again.returncode == 0 and "leak.txt" not in again.stderr, again.stderr


def test_a_file_name_that_is_not_utf8_is_reported_and_the_rest_ingested(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_text("Ada Lovelace wrote the first program.")
    bad = os.path.join(os.fsencode(docs), b"caf\xe9.txt")  # Latin-1 bytes in the name
    with open(bad, "wb") as f:
        f.write(b"Grace Hopper built a compiler.")
    db = tmp_path / "g.db"
    out = graphmem("ingest", str(docs), "--store", f"sqlite:///{db}", "--extractor", "none")
    assert out.returncode == 1, out.stderr
    assert "caf" in out.stderr and "not valid UTF-8" in out.stderr
    assert "TypeError" not in out.stderr and "Traceback" not in out.stderr
    stats = graphmem("stats", "--store", f"sqlite:///{db}")
    assert '"passages": 1' in stats.stdout, stats.stdout + stats.stderr
