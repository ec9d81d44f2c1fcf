"""The SQLite store's BM25: a namespace's own postings, scored with the file-wide word statistics
SQLite FTS5's ``bm25()`` ranks with, read from its tables.

The store searches each namespace's own postings (:mod:`graphmem.store.textindex`), but weighs
words as FTS5 always has: how rare a word is and the mean text length are the file's, over every
namespace. Those are the statistics graphmem's rankings were measured and tuned with (on the
whole LongMemEval dev folder, one file of 60 histories, a namespace's own statistics lowered R@5
from 79.9 to 74.3), and a few hundred chat turns are a thin sample of how rare a word is.

FTS5 keeps the row count and token total in one record (``{table}_data``, id 1: SQLite varints);
a word's document count is a count of its match, kept until the file changes.

A namespace holding more than ``limit`` texts of a kind (20,000 by default) is not copied into
memory: building its postings would cost its first search ~1.2 µs a word (10 s for 100,000
passages), so it is searched by FTS5's own match, which gives the same scores.
"""

from __future__ import annotations

import sqlite3

from graphmem.store.base import NodeKind
from graphmem.store.lexical import fts5_query
from graphmem.store.sqlite.load import load_text_index
from graphmem.store.sqlite.schema import NODE_TABLES
from graphmem.store.textindex import TextIndex

#: texts of one kind in a namespace above which it is searched by FTS5's match, not in memory
TEXT_INDEX_LIMIT = 20_000

#: query words whose document counts are kept (then forgotten all at once)
HELD_WORDS = 100_000
#: the FTS5 record holding the row count and each column's token total
_AVERAGES_ID = 1


def varints(blob: bytes) -> list[int]:
    """The SQLite varints packed in ``blob`` (big-endian 7-bit groups; a 9th byte is whole).

    >>> varints(bytes([0x05, 0x81, 0x00, 0x7f]))
    [5, 128, 127]
    """
    out: list[int] = []
    i = 0
    while i < len(blob):
        value = 0
        for j in range(9):
            byte = blob[i]
            i += 1
            if j == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        out.append(value)
    return out


class FileStats:
    """Row count, mean length and document counts of one FTS5 table (``passages_fts`` or
    ``episodes_fts``), read on first use; the store drops the object when the file changes."""

    def __init__(self, conn: sqlite3.Connection, table: str) -> None:
        self._conn = conn
        self._table = table
        self._shape: tuple[int, float] | None = None
        self._held: dict[str, int] = {}

    def shape(self) -> tuple[int, float]:
        """How many texts the table holds, and their mean length in words."""
        if self._shape is None:
            row = self._conn.execute(
                f"SELECT block FROM {self._table}_data WHERE id = ?", (_AVERAGES_ID,)
            ).fetchone()
            counts = varints(bytes(row[0])) if row and row[0] else [0]
            rows = counts[0]
            self._shape = (rows, sum(counts[1:]) / rows if rows else 0.0)
        return self._shape

    def doc_freq(self, term: str) -> int:
        """How many texts hold ``term`` (FTS5 cuts and stems it), kept until the file changes."""
        key = term.lower()  # not casefold: FTS5 keeps "ß", so "Straße" and "STRASSE" differ
        held = self._held.get(key)
        if held is None:
            if len(self._held) >= HELD_WORDS:  # a read-only server would keep every word asked
                self._held.clear()
            row = self._conn.execute(
                f"SELECT count(*) FROM {self._table} WHERE {self._table} MATCH ?",
                (fts5_query([term]),),
            ).fetchone()
            held = self._held[key] = int(row[0])
        return held


class TextSearch:
    """The store's ``text_search``: in-memory postings per namespace (kept in ``texts``, the
    namespace's state) up to ``limit`` texts, FTS5's match beyond; the file's statistics."""

    def __init__(self, limit: int = TEXT_INDEX_LIMIT) -> None:
        self.limit = limit
        self._stats: dict[str, FileStats] = {}

    def forget(self) -> None:
        """The file changed: its statistics are read again."""
        self._stats.clear()

    def index(
        self,
        conn: sqlite3.Connection,
        texts: dict[NodeKind, TextIndex | None],
        namespace: str,
        kind: NodeKind,
    ) -> TextIndex | None:
        """The namespace's postings of ``kind`` (built on first use; None: too many to hold)."""
        if kind not in texts:
            (count,) = conn.execute(
                f"SELECT count(*) FROM {NODE_TABLES[kind]} WHERE namespace = ?", (namespace,)
            ).fetchone()
            texts[kind] = None if count > self.limit else load_text_index(conn, namespace, kind)
        return texts[kind]

    def search(
        self,
        conn: sqlite3.Connection,
        texts: dict[NodeKind, TextIndex | None],
        namespace: str,
        kind: NodeKind,
        terms: list[str],
        k: int,
    ) -> list[tuple[str, float]]:
        """The ``k`` texts of ``namespace`` best matching any of ``terms``, best first, as FTS5's
        ``bm25()`` scores them over the file."""
        table = f"{NODE_TABLES[kind]}_fts"
        index = self.index(conn, texts, namespace, kind)
        if index is None:
            rows = conn.execute(
                f"SELECT id, bm25({table}) AS rank FROM {table} "
                f"WHERE {table} MATCH ? AND namespace = ? ORDER BY rank, id LIMIT ?",
                (fts5_query(terms), namespace, k),
            ).fetchall()
            return [(str(i), -float(r)) for i, r in rows]
        stats = self._stats.get(table)
        if stats is None:
            stats = self._stats[table] = FileStats(conn, table)
        return index.search(terms, k, stats)
