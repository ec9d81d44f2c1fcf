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
['0001_initial', '0002_lexical_index', '0003_passage_sources', '0004_canonical_synonyms', \
'0005_scoped_caches', '0006_episode_lexical_index', '0008_lifecycle']
>>> apply_migrations(conn)
[]
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from graphmem.errors import StoreError


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
    # Caches keyed by content (extractions scoped by namespace since 0005_scoped_caches).
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

# The lexical (BM25) index of passage text: an FTS5 table beside ``passages``, kept in step by
# triggers, so every path that inserts or deletes a passage row (any write or delete, now or
# later) updates it in the same transaction. ``namespace`` and ``id`` ride along unindexed to
# filter and answer a match. The FTS rowid is recorded in ``passages.fts_rowid`` rather than
# equal to the passage's rowid, because VACUUM may renumber the rowids of ``passages``.
_LEXICAL = (
    "ALTER TABLE passages ADD COLUMN fts_rowid INTEGER",
    """CREATE VIRTUAL TABLE passages_fts USING fts5(
        text, namespace UNINDEXED, id UNINDEXED, tokenize = 'porter unicode61'
    )""",
    # Backfill the passages already stored.
    "INSERT INTO passages_fts (rowid, text, namespace, id) "
    "SELECT rowid, json_extract(data, '$.text'), namespace, id FROM passages",
    "UPDATE passages SET fts_rowid = rowid",
    """CREATE TRIGGER passages_fts_insert AFTER INSERT ON passages BEGIN
        INSERT INTO passages_fts (text, namespace, id)
        VALUES (json_extract(new.data, '$.text'), new.namespace, new.id);
        UPDATE passages SET fts_rowid = last_insert_rowid() WHERE rowid = new.rowid;
    END""",
    """CREATE TRIGGER passages_fts_delete AFTER DELETE ON passages BEGIN
        DELETE FROM passages_fts WHERE rowid = old.fts_rowid;
    END""",
)

# Every source that supplied a passage (the same text may come from several files); rowid order
# is the order they arrived in, and the first one left is the passage's display ``source``.
_SOURCES = (
    """CREATE TABLE passage_sources (
        namespace TEXT NOT NULL,
        passage_id TEXT NOT NULL,
        source TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX passage_sources_key ON passage_sources (namespace, passage_id, source)",
    "CREATE INDEX passage_sources_source ON passage_sources (namespace, source)",
    "INSERT INTO passage_sources (namespace, passage_id, source) "
    "SELECT namespace, id, source FROM passages WHERE source IS NOT NULL ORDER BY rowid",
    """CREATE TRIGGER passage_sources_delete AFTER DELETE ON passages BEGIN
        DELETE FROM passage_sources WHERE namespace = old.namespace AND passage_id = old.id;
    END""",
)

# Undirected edges are stored once per pair, src < dst: a pair two writers stored from either
# end keeps its larger weight in the canonical row.
_CANONICAL = (
    "UPDATE edges SET weight = max(weight, (SELECT r.weight FROM edges r WHERE "
    "r.namespace = edges.namespace AND r.type = edges.type AND r.src = edges.dst "
    "AND r.dst = edges.src)) WHERE type = 'SYNONYM' AND src < dst AND EXISTS (SELECT 1 FROM "
    "edges r WHERE r.namespace = edges.namespace AND r.type = edges.type AND r.src = edges.dst "
    "AND r.dst = edges.src)",
    "DELETE FROM edges WHERE type = 'SYNONYM' AND src > dst AND EXISTS (SELECT 1 FROM edges r "
    "WHERE r.namespace = edges.namespace AND r.type = edges.type AND r.src = edges.dst "
    "AND r.dst = edges.src)",
    "UPDATE edges SET src = dst, dst = src WHERE type = 'SYNONYM' AND src > dst",
)

# The caches are scoped by namespace (issue 21): extraction keys start with the namespace and
# the passage id, so the old keys (text hash alone, shared by every namespace) go; and a delete
# purges the vectors no stored node uses, found through an index on each table's embed_key.
_SCOPED_CACHES = (
    "DELETE FROM extractions",
    *(
        f"CREATE INDEX {table}_embed_key ON {table} (embed_key)"
        for table in ("passages", "entities", "facts", "events", "hyperedges", "episodes")
    ),
)

# The lexical index of episode text (issue 20: the episode path's first stage fuses BM25 with
# dense, as the passage path does), built as ``_LEXICAL`` builds the passages' one. An episode is
# upserted in place (``ON CONFLICT DO UPDATE``), so an update trigger follows a changed text.
_EPISODE_LEXICAL = (
    "ALTER TABLE episodes ADD COLUMN fts_rowid INTEGER",
    """CREATE VIRTUAL TABLE episodes_fts USING fts5(
        text, namespace UNINDEXED, id UNINDEXED, tokenize = 'porter unicode61'
    )""",
    "INSERT INTO episodes_fts (rowid, text, namespace, id) "
    "SELECT rowid, json_extract(data, '$.text'), namespace, id FROM episodes",
    "UPDATE episodes SET fts_rowid = rowid",
    """CREATE TRIGGER episodes_fts_insert AFTER INSERT ON episodes BEGIN
        INSERT INTO episodes_fts (text, namespace, id)
        VALUES (json_extract(new.data, '$.text'), new.namespace, new.id);
        UPDATE episodes SET fts_rowid = last_insert_rowid() WHERE rowid = new.rowid;
    END""",
    """CREATE TRIGGER episodes_fts_update AFTER UPDATE OF data ON episodes
    WHEN json_extract(old.data, '$.text') IS NOT json_extract(new.data, '$.text') BEGIN
        UPDATE episodes_fts SET text = json_extract(new.data, '$.text')
        WHERE rowid = new.fts_rowid;
    END""",
    """CREATE TRIGGER episodes_fts_delete AFTER DELETE ON episodes BEGIN
        DELETE FROM episodes_fts WHERE rowid = old.fts_rowid;
    END""",
)

# Lifecycle (issue 22): every step of a node's life, appended in rowid order (the history), and
# each node's current recorded state, one row per node that has one. A node with no row is in
# the state its own fields give (see graphmem.store.states). ``recalls`` and ``last_recalled``
# count retrievals for the strength of a fact or episode. The rows outlive a delete of their
# node on purpose (the audit trail); deleting the namespace removes them.
_LIFECYCLE = (
    """CREATE TABLE lifecycle_events (
        namespace TEXT NOT NULL,
        node_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        event TEXT NOT NULL,
        state TEXT NOT NULL,
        at TEXT NOT NULL,
        reason TEXT,
        actor TEXT,
        data TEXT NOT NULL
    )""",
    "CREATE INDEX lifecycle_events_node ON lifecycle_events (namespace, node_id)",
    """CREATE TABLE lifecycle_states (
        namespace TEXT NOT NULL,
        node_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        since TEXT NOT NULL,
        recalls INTEGER NOT NULL DEFAULT 0,
        last_recalled TEXT,
        PRIMARY KEY (namespace, node_id)
    )""",
    "CREATE INDEX lifecycle_states_state ON lifecycle_states (namespace, state)",
)

#: every migration, in the order it is applied
MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_initial", _INITIAL),
    Migration("0002_lexical_index", _LEXICAL),
    Migration("0003_passage_sources", _SOURCES),
    Migration("0004_canonical_synonyms", _CANONICAL),
    Migration("0005_scoped_caches", _SCOPED_CACHES),
    Migration("0006_episode_lexical_index", _EPISODE_LEXICAL),
    Migration("0008_lifecycle", _LIFECYCLE),
)

#: node kind -> table name (the same words, kept explicit so a typo cannot reach SQL)
NODE_TABLES: dict[str, str] = {
    "passage": "passages",
    "entity": "entities",
    "fact": "facts",
    "event": "events",
    "hyperedge": "hyperedges",
    "episode": "episodes",
}


def check_file(conn: sqlite3.Connection, path: str, *, create: bool) -> None:
    """Refuse, before anything is written, a file that is not a graphmem store of this version.

    A database holding other tables is never written into (its owner did not ask for graphmem's
    tables); without ``create`` (read-only commands) neither is an empty file; and a store with
    migrations this graphmem does not know was made by a newer one, whose layout it cannot read.
    """
    names = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master")}
    hint = "graphmem never writes into another database: pass the path of a graphmem store"
    if "migrations" not in names:
        if names:
            shown = ", ".join(sorted(names)[:5])
            raise StoreError(f"{path} is not a graphmem store (it holds {shown}); {hint}")
        if not create:
            raise StoreError(f"{path} is an empty file, not a graphmem store; {hint}")
        return
    unknown = [n for n in applied_migrations(conn) if n not in {m.name for m in MIGRATIONS}]
    if unknown:
        raise StoreError(
            f"{path} was made by a newer graphmem (unknown migrations: {', '.join(unknown)}): "
            "upgrade graphmem to open it"
        )


def integrity_problems(conn: sqlite3.Connection, namespace: str) -> list[str]:
    """What ``PRAGMA quick_check`` finds, and every table whose index count of ``namespace``
    differs from a scan of its rows (quick_check does not compare indexes with their table)."""
    problems = [str(r[0]) for r in conn.execute("PRAGMA quick_check") if str(r[0]) != "ok"]
    for table in (*NODE_TABLES.values(), "edges"):
        fast, slow = (
            conn.execute(
                f"SELECT COUNT(*) FROM {table} {how} WHERE namespace = ?", (namespace,)
            ).fetchone()[0]
            for how in ("", "NOT INDEXED")
        )
        if fast != slow:
            problems.append(f"{table}: its index counts {fast} rows, the table holds {slow}")
    return problems


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
