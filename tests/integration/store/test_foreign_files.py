"""Read-only commands never write into a file that is not a graphmem store (issue 21, item 3).

``graphmem stats`` on a foreign SQLite file or a zero-length file created graphmem's tables in it;
a store from a newer graphmem (an unknown migration row) opened silently; a corrupted store
printed counts. Each is now refused with a clear message and the file is left as it was.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from graphmem.models import Passage
from graphmem.store.base import WriteBatch
from graphmem.store.sqlite import SQLiteStore

REPO = Path(__file__).resolve().parents[3]


def graphmem(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-c", "from graphmem.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return sorted(r[0] for r in db.execute("SELECT name FROM sqlite_master"))


def test_stats_on_a_foreign_sqlite_file_refuses_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "f.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        db.execute("INSERT INTO invoices (total) VALUES (12.5)")
    before = path.read_bytes()
    out = graphmem("stats", "--store", f"sqlite:///{path}")
    assert out.returncode != 0
    assert "not a graphmem store" in out.stderr and str(path) in out.stderr
    assert path.read_bytes() == before and tables(path) == ["invoices"]
    assert not Path(f"{path}-wal").exists()


@pytest.mark.parametrize("command", [["stats"], ["search", "anything"], ["export", "-o", "x"]])
def test_read_only_commands_on_a_zero_length_file_refuse(
    tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    out = graphmem(*command, "--store", f"sqlite:///{path}")
    assert out.returncode != 0
    assert "empty file" in out.stderr and "not a graphmem store" in out.stderr
    assert path.stat().st_size == 0


def test_a_store_from_a_newer_graphmem_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with SQLiteStore(path) as store:
        store.write(WriteBatch("default", passages=[Passage(id="p:1", text="hi")]))
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO migrations (name, applied_at) VALUES ('0099_future', 'x')")
    for args in (["stats"], ["ingest", str(path)]):
        out = graphmem(*args, "--store", f"sqlite:///{path}")
        assert out.returncode != 0
        assert "newer graphmem" in out.stderr and "0099_future" in out.stderr


def test_stats_on_a_corrupted_store_fails_instead_of_printing_counts(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    with SQLiteStore(path) as store:
        store.write(
            WriteBatch("default", passages=[Passage(id=f"p:{i}", text=f"t{i}") for i in range(50)])
        )
    # Half the rows go while the passages' indexes are hidden: the indexes still count them all.
    db = sqlite3.connect(path, isolation_level=None)
    hidden = db.execute(
        "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_master "
        "WHERE type = 'index' AND tbl_name = 'passages' AND sql IS NOT NULL"
    ).fetchall()
    db.execute("PRAGMA writable_schema = ON")
    names = [h[1] for h in hidden]
    db.execute(f"DELETE FROM sqlite_master WHERE name IN ({','.join('?' * len(names))})", names)
    db.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("DELETE FROM passages WHERE rowid % 2 = 0")
    db.execute("PRAGMA writable_schema = ON")
    db.executemany("INSERT INTO sqlite_master VALUES (?, ?, ?, ?, ?)", hidden)
    db.close()
    out = graphmem("stats", "--store", f"sqlite:///{path}")
    assert out.returncode != 0, out.stdout
    assert "is corrupt" in out.stderr and "passages" in out.stderr
    assert '"passages"' not in out.stdout
