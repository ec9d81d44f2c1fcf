"""The embedded store's schema, as named migrations recorded in the ``migrations`` table.

A migration is applied once, inside one transaction together with the row that records it, so a
crash never leaves a half-applied migration, and opening an up-to-date file applies nothing.
Add a migration by appending to :data:`MIGRATIONS`; never edit one that has shipped.

Layout: one table per node kind, each with ``namespace`` and ``id`` (the primary key), the columns
queries filter on, ``embed_key`` (the hash of the text whose embedding stands for the node, see
:func:`graphmem.store.base.embed_key`) and ``data``, the node as JSON. Embeddings are stored once, in
``vectors`` keyed by (model, text hash), never per node.

>>> import sqlite3
>>> conn = sqlite3.connect(":memory:", isolation_level=None)
>>> apply_migrations(conn)
['0001_initial']
>>> apply_migrations(conn)
[]
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Migration:
    name: str
    statements: tuple[str, ...]


_INITIAL = (
    """CREATE TABLE namespaces (
        namespace TEXT PRIMARY KEY,
        embedding_model TEXT,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE passages (
        namespace TEXT NOT NULL,
        id TEXT NOT NULL,
        source TEXT,
        status TEXT NOT NULL,
        embed_key TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (namespace, id)
    )""",
    "CREATE INDEX passages_source ON passages (namespace, source)",
    "CREATE INDEX passages_status ON passages (namespace, status)",
    """CREATE TABLE entities (
        namespace TEXT NOT NULL,
        id TEXT NOT NULL,
        normalized TEXT NOT NULL,
        embed_key TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (namespace, id)
    )""",
    """CREATE TABLE facts (
        namespace TEXT NOT NULL,
        id TEXT NOT NULL,
        subject TEXT NOT NULL,
        object TEXT NOT NULL,
        invalid_at TEXT,
        expired_at TEXT,
        embed_key TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (namespace, id)
    )""",
    "CREATE INDEX facts_subject ON facts (namespace, subject)",
    "CREATE INDEX facts_object ON facts (namespace, object)",
    """CREATE TABLE events (
        namespace TEXT NOT NULL,
        id TEXT NOT NULL,
        embed_key TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (namespace, id)
    )""",
    """CREATE TABLE hyperedges (
        namespace TEXT NOT NULL,
        id TEXT NOT NULL,
        embed_key TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (namespace, id)
    )""",
    """CREATE TABLE episodes (
        namespace TEXT NOT NULL,
        id TEXT NOT NULL,
        source TEXT,
        session TEXT,
        time TEXT NOT NULL,
        embed_key TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (namespace, id)
    )""",
    "CREATE INDEX episodes_source ON episodes (namespace, source)",
    "CREATE INDEX episodes_session ON episodes (namespace, session, time)",
    # Rows are appended in rowid order; one unique index serves upserts and lookups by source
    # node, a second one lookups by target. (A clustered WITHOUT ROWID key would copy the whole
    # key into each secondary index, and every batch rewrites the index pages it touches.)
    """CREATE TABLE edges (
        namespace TEXT NOT NULL,
        type TEXT NOT NULL,
        src TEXT NOT NULL,
        dst TEXT NOT NULL,
        weight REAL NOT NULL,
        props TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX edges_key ON edges (namespace, src, type, dst)",
    "CREATE INDEX edges_dst ON edges (namespace, dst)",
    # Caches keyed by content, shared by every namespace.
    """CREATE TABLE vectors (
        model TEXT NOT NULL,
        key TEXT NOT NULL,
        dim INTEGER NOT NULL,
        vec BLOB NOT NULL,
        PRIMARY KEY (model, key)
    )""",
    """CREATE TABLE extractions (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
)

#: every migration, in the order it is applied
MIGRATIONS: tuple[Migration, ...] = (Migration("0001_initial", _INITIAL),)

#: node kind -> table name (the same words, kept explicit so a typo cannot reach SQL)
NODE_TABLES: dict[str, str] = {
    "passage": "passages",
    "entity": "entities",
    "fact": "facts",
    "event": "events",
    "hyperedge": "hyperedges",
    "episode": "episodes",
}


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations recorded in ``conn``'s file, in the order they were applied."""
    rows = conn.execute("SELECT name FROM migrations ORDER BY rowid").fetchall()
    return [str(r[0]) for r in rows]


def apply_migrations(
    conn: sqlite3.Connection, migrations: tuple[Migration, ...] = MIGRATIONS
) -> list[str]:
    """Apply the migrations not yet recorded; return the names applied now.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Each migration runs in its own
    ``BEGIN IMMEDIATE`` transaction, so two processes opening a new file at once apply it once.
    """
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'"
    ).fetchone()
    # An up-to-date file is only read: opening it never waits for another process's write lock.
    if has_table and {m.name for m in migrations} <= set(applied_migrations(conn)):
        return []
    conn.execute(
        "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    done: list[str] = []
    for migration in migrations:
        conn.execute("BEGIN IMMEDIATE")
        try:
            seen = conn.execute(
                "SELECT 1 FROM migrations WHERE name = ?", (migration.name,)
            ).fetchone()
            if seen is None:
                for statement in migration.statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO migrations (name, applied_at) VALUES (?, ?)",
                    (migration.name, datetime.now(UTC).isoformat()),
                )
                done.append(migration.name)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return done
