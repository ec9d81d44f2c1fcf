"""The SQLite file under the store: its one connection, pragmas, lock and transactions.

:class:`SQLiteFile` opens the file (WAL, ``synchronous=NORMAL``, migrations), serializes every
use of its one connection with a re-entrant lock, and notices other processes' commits through
``PRAGMA data_version``, telling the subclass to drop what it holds in memory
(:meth:`SQLiteFile._drop_memory`). Reads go through :meth:`~SQLiteFile._reading` (and
:meth:`~SQLiteFile._snapshot` when several SELECTs must see one state), writes through
:meth:`~SQLiteFile._transaction`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from os import PathLike
from pathlib import Path

from graphmem.errors import (
    ConnectionFailed,
    GraphmemError,
    StoreError,
    StoreUnavailable,
    TransactionFailed,
)
from graphmem.store.sqlite.schema import apply_migrations, check_file, integrity_problems


class SQLiteFile:
    """One SQLite file (or ``":memory:"``) and its connection, shared by every thread.

    ``busy_timeout``: seconds a write waits for another process's transaction.
    """

    def __init__(
        self,
        path: str | PathLike[str],
        *,
        busy_timeout: float = 30.0,
        url: str | None = None,
        create: bool = True,
    ) -> None:
        self.path = str(path) if str(path) == ":memory:" else str(Path(path).expanduser())
        self.url = url or f"sqlite:///{self.path}"
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        #: inside :meth:`exclusive` (its thread holds ``_lock``): writes join its transaction
        self._held = False
        self._conn: sqlite3.Connection | None = self._connect(create)
        self._version = self._data_version(self._conn)

    def _drop_memory(self) -> None:
        """Forget what is held in memory about the file (another process changed it, or closed)."""

    def _connect(self, create: bool = True) -> sqlite3.Connection:
        """Open the file; without ``create``, only an existing graphmem store (nothing made)."""
        memory = self.path == ":memory:"
        try:
            if not memory:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise ConnectionFailed(f"cannot open SQLite store {self.path!r}: {exc}") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            if not memory:  # before WAL mode, which rewrites the file's header
                check_file(conn, self.path, create=create)
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if not memory and str(mode).lower() != "wal":
                raise StoreError(f"{self.path}: cannot switch to WAL journal mode (got {mode!r})")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute("PRAGMA cache_size = -65536")
            # Checkpoint every ~40 MB of WAL rather than 4 MB: ingest batches rewrite the same
            # index pages again and again, and a later checkpoint copies each page once.
            conn.execute("PRAGMA wal_autocheckpoint = 10000")
            conn.execute("PRAGMA journal_size_limit = 67108864")
            apply_migrations(conn)
            conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS batch_edges (type TEXT, src TEXT, dst TEXT)"
            )
        except sqlite3.Error as exc:
            conn.close()
            raise ConnectionFailed(f"cannot open SQLite store {self.path!r}: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _data_version(conn: sqlite3.Connection) -> int:
        return int(conn.execute("PRAGMA data_version").fetchone()[0])

    def _require(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self.url}: the store is closed")
        return self._conn

    def _sync(self, conn: sqlite3.Connection) -> None:
        """Drop what is held in memory if another process committed since we last looked."""
        version = self._data_version(conn)
        if version != self._version:
            self._drop_memory()
            self._version = version

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._require()
            try:
                self._sync(conn)
                yield conn
            except sqlite3.Error as exc:
                raise StoreError(f"{self.url}: {exc}") from exc

    @contextmanager
    def _snapshot(self, conn: sqlite3.Connection) -> Iterator[None]:
        """Several SELECTs that must see one state of the file."""
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN")
        try:
            yield
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")

    @contextmanager
    def exclusive(self, what: str = "an exclusive section") -> Iterator[None]:
        """Hold the file's write lock (``BEGIN IMMEDIATE``) across reads and writes: another
        process's writes wait, so what is read here is still true when written. Writes inside join
        this one transaction; a failure rolls it all back."""
        with self._lock:
            conn = self._require()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise TransactionFailed(f"{self.url}: cannot start {what}: {exc}") from exc
            self._held = True
            try:
                self._sync(conn)
                yield
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                self._drop_memory()  # what writes inside applied in memory was rolled back
                if isinstance(exc, sqlite3.Error):
                    raise TransactionFailed(f"{self.url}: {what} was rolled back: {exc}") from exc
                raise
            finally:
                self._held = False

    @contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction; any failure rolls it back and surfaces as TransactionFailed."""
        with self._lock:
            conn = self._require()
            if self._held:  # inside exclusive(): its transaction, committed there
                yield conn
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise TransactionFailed(f"{self.url}: cannot start {what}: {exc}") from exc
            try:
                self._sync(conn)
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    # The original error is the one worth reporting.
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                if isinstance(exc, GraphmemError) or not isinstance(exc, Exception):
                    raise
                raise TransactionFailed(
                    f"{self.url}: {what} failed and was rolled back: {exc}"
                ) from exc

    def check(self, namespace: str) -> None:
        """Raise :class:`StoreError` if the file is corrupt (a quick structural check, and the
        namespace's index counts against its rows): run before trusting counts."""
        with self._reading() as conn:
            problems = integrity_problems(conn, namespace)
        if problems:
            shown = "; ".join(problems[:5])
            raise StoreError(
                f"{self.path} is corrupt: {shown} (restore a backup, or run sqlite3's .recover)"
            )

    def ping(self, timeout: float) -> None:
        """Raise :class:`StoreUnavailable` if the store is closed, or its file is gone or can
        no longer be read and written (the open connection would go on working on a deleted
        file until it closes, losing what is written). Takes no lock: an ingest holding the
        file for minutes does not make the store unready."""
        if self._conn is None:
            raise StoreUnavailable(f"{self.url}: the store is closed")
        if self.path == ":memory:":
            return
        try:
            with open(self.path, "r+b") as f:
                header = f.read(16)
        except OSError as exc:
            raise StoreUnavailable(f"{self.url}: the file cannot be opened: {exc}") from exc
        if header != b"SQLite format 3\x00":
            raise StoreUnavailable(f"{self.url}: the file is no longer a SQLite database")

    def close(self) -> None:
        """Close the file. Further calls raise :class:`StoreError`."""
        with self._lock:
            if self._conn is not None:
                with suppress(sqlite3.Error):  # best effort; closing must not fail on it
                    self._conn.execute("PRAGMA optimize")
                self._conn.close()
                self._conn = None
            self._drop_memory()
