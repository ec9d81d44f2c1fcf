"""The file-wide word statistics SQLite FTS5's ``bm25()`` ranks with, read from its tables.

The store searches each namespace's own postings (:mod:`graphmem.store.textindex`), but weighs
words as FTS5 always has: how rare a word is and the mean text length are the file's, over every
namespace. Those are the statistics graphmem's rankings were measured and tuned with (on the
whole LongMemEval dev folder, one file of 60 histories, a namespace's own statistics lowered R@5
from 79.9 to 74.3), and a few hundred chat turns are a thin sample of how rare a word is.

FTS5 keeps the row count and token total in one record (``{table}_data``, id 1: SQLite varints);
a word's document count is a count of its match, kept until the file changes.
"""

from __future__ import annotations

import sqlite3

from graphmem.store.lexical import fts5_query

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
        if self._shape is None:
            row = self._conn.execute(
                f"SELECT block FROM {self._table}_data WHERE id = ?", (_AVERAGES_ID,)
            ).fetchone()
            counts = varints(bytes(row[0])) if row and row[0] else [0]
            rows = counts[0]
            self._shape = (rows, sum(counts[1:]) / rows if rows else 0.0)
        return self._shape

    def doc_freq(self, term: str) -> int:
        key = term.casefold()
        held = self._held.get(key)
        if held is None:
            row = self._conn.execute(
                f"SELECT count(*) FROM {self._table} WHERE {self._table} MATCH ?",
                (fts5_query([term]),),
            ).fetchone()
            held = self._held[key] = int(row[0])
        return held
