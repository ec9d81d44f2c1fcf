"""Named migrations of the SQLite store that change a file written by an older graphmem."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from graphmem.ids import passage_id
from graphmem.models import Passage
from graphmem.store.base import WriteBatch, embed_key
from graphmem.store.sqlite import SQLiteStore
from graphmem.store.sqlite.schema import MIGRATIONS, apply_migrations


def old_file(path: Path, upto: str, passages: list[Passage]) -> None:
    """A file with the migrations up to ``upto`` only, holding ``passages`` as rows."""
    names = [m.name for m in MIGRATIONS]
    conn = sqlite3.connect(path, isolation_level=None)
    apply_migrations(conn, MIGRATIONS[: names.index(upto) + 1])
    conn.executemany(
        "INSERT INTO passages (namespace, id, source, status, embed_key, data) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (p.namespace, p.id, p.source, p.status, embed_key(p), p.model_dump_json())
            for p in passages
        ],
    )
    conn.execute("INSERT INTO namespaces (namespace, created_at) VALUES ('default', '2024-01-01')")
    conn.close()


def make(text: str, source: str) -> Passage:
    return Passage(id=passage_id("default", text), text=text, source=source)


def test_the_lexical_migration_backfills_passages_already_stored(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    alpha, beta = make("Alpha particles decay.", "a"), make("Beta particles decay too.", "b")
    old_file(db, "0001_initial", [alpha, beta])
    with SQLiteStore(db) as store:
        assert {p for p, _ in store.text_search("default", "particles", 10)} == {alpha.id, beta.id}
        store.delete_source("default", "a")
        assert [p for p, _ in store.text_search("default", "particles", 10)] == [beta.id]
    conn = sqlite3.connect(db)
    names = [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY rowid")]
    assert "0002_lexical_index" in names
    conn.close()


def test_the_index_survives_vacuum_renumbering_rowids(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    texts = [f"Passage number {i} about topic{i}." for i in range(6)]
    with SQLiteStore(db) as store:
        store.write(WriteBatch("default", passages=[make(t, f"s{i}") for i, t in enumerate(texts)]))
        for i in range(0, 6, 2):
            store.delete_source("default", f"s{i}")
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("VACUUM")  # passages' rowids may now be 1..3, the FTS rowids stay 2, 4, 6
    conn.close()
    with SQLiteStore(db) as store:
        new = make("A new passage about topic9.", "s9")
        store.write(WriteBatch("default", passages=[new]))
        live = {p for p, _ in store.text_search("default", "passage", 20)}
        assert live == {make(texts[i], "").id for i in (1, 3, 5)} | {new.id}
        store.delete_source("default", "s3")
        assert {p for p, _ in store.text_search("default", "topic3 topic9", 20)} == {new.id}
