"""The Neo4j dialect: the official ``neo4j`` driver (Bolt), Neo4j 5.15 or later.

- Writes run in managed transactions (``session.execute_write``): one batch is one transaction,
  retried by the driver on transient errors (deadlocks, leader switches) for up to
  ``max_transaction_retry_time``; a failure rolls the whole batch back.
- Constraints and indexes are created with ``IF NOT EXISTS``, so opening a store is idempotent;
  the vector indexes (``gm_vector_<Label>``, cosine) are created once the embedding dimension is
  known, and waited for.
- Errors are translated at this boundary: unreachable server and refused credentials become
  :class:`~graphmem.errors.ConnectionFailed` (raised when the store is opened), a server lost
  later (or a transaction past ``timeout``) :class:`~graphmem.errors.StoreUnavailable`, a
  rejected write :class:`~graphmem.errors.TransactionFailed`, anything else
  :class:`~graphmem.errors.StoreError`.
- ``timeout`` (the URL's ``?timeout=``) bounds every read and write transaction on the server
  (the driver's transaction timeout), sending a request (``connection_write_timeout``) and
  :meth:`Neo4jDialect.ping` (on a thread, so even a frozen server answers within it). The
  driver has no read timeout of its own: a server frozen mid-reply is noticed by the
  transaction timeout only once it runs again, or by the OS's TCP keep-alive.
- When the server has the Graph Data Science library, :meth:`Neo4jDialect.pagerank` runs
  personalized PageRank there (``gds.pageRank.stream`` with weighted ``sourceNodes``) on a
  projection of one namespace, re-projected after writes.

Neo4j cannot be installed on the build machines, so every statement this dialect runs is checked
by Neo4j's own Cypher linter (``tools/cypherlint``) and the same statements run against FalkorDB.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from graphmem.errors import (
    ConfigError,
    ConnectionFailed,
    StoreError,
    StoreUnavailable,
    TransactionFailed,
)
from graphmem.store.cypher.dialect import DEFAULT_TIMEOUT, Params, Row, Transaction
from graphmem.store.cypher.queries import Statement, load
from graphmem.store.lexical import lucene_query

T = TypeVar("T")

#: the schema statements, in order (all ``IF NOT EXISTS``)
SCHEMA = (
    "create_node_key",
    "create_namespace_index",
    "create_source_index",
    "create_embed_key_index",
    "create_fact_rel_index",
    "create_vector_key",
    "create_extraction_key",
    "create_namespace_key",
    "create_model_key",
    "create_fulltext_index",
    "create_episode_fulltext_index",
    "create_lifecycle_index",
    "create_state_key",
    "create_state_index",
)
#: oldest Neo4j with ``CREATE VECTOR INDEX ... IF NOT EXISTS`` and ``db.index.vector.queryNodes``
MIN_VERSION = (5, 15)
PAGE = 50_000


def _version(text: str) -> tuple[int, int]:
    m = re.match(r"(\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


class _Tx:
    """A :class:`Transaction` over a managed transaction: reads and writes run at once."""

    def __init__(self, tx: Any, log: Callable[[Statement, Params], None] | None) -> None:
        self._tx = tx
        self._log = log

    def read(self, stmt: Statement, params: Params) -> list[Row]:
        stmt.check_params(params)
        if self._log is not None:
            self._log(stmt, params)
        return [tuple(r.values()) for r in self._tx.run(stmt.text, dict(params))]

    def write(self, stmt: Statement, params: Params) -> None:
        stmt.check_params(params)
        if self._log is not None:
            self._log(stmt, params)
        self._tx.run(stmt.text, dict(params)).consume()


class Neo4jDialect:
    """Neo4j through the official driver. ``uri`` carries no credentials.

    ``driver`` replaces the real driver (tests); ``log`` sees every statement run.
    """

    name = "neo4j"
    #: Lucene's BM25 similarity
    text_ranking = "bm25"

    def __init__(
        self,
        uri: str,
        *,
        user: str = "neo4j",
        password: str = "",
        database: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = 10.0,
        max_retry_time: float = 30.0,
        driver: Any = None,
        log: Callable[[Statement, Params], None] | None = None,
    ) -> None:
        self.display_url = uri + (f"/{database}" if database else "")
        self.database = database
        self.timeout = timeout
        self.log = log
        self._vector_indexes: set[str] = set()
        self._gds: bool | None = None
        self._projected: dict[str, str] = {}
        self._stale: set[str] = set()
        if driver is None:
            try:
                from neo4j import GraphDatabase
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise ConfigError(
                    "neo4j:// and bolt:// need the neo4j driver: pip install 'graphmem[neo4j]'"
                ) from exc
            driver = GraphDatabase.driver(
                uri,
                auth=(user, password),
                connection_timeout=connect_timeout,
                # Also bounds the Bolt handshake: a server that never answers it (a Redis port)
                # fails after connect_timeout instead of the driver's 60 s.
                connection_acquisition_timeout=connect_timeout,
                max_transaction_retry_time=max_retry_time,
                connection_write_timeout=timeout,
            )
        self._driver = driver
        self._user = user
        self._check_server()

    # -- connecting ---------------------------------------------------------------------------
    def _check_server(self) -> None:
        from neo4j import exceptions as nex

        where = self.display_url
        try:
            self._driver.verify_connectivity()
            rows = self.read(self.statement("server_components"), {})
        except nex.AuthError as exc:
            self.close()
            raise ConnectionFailed(
                f"Neo4j at {where} refused the credentials of user {self._user!r}: check the "
                "user and password (neo4j://user:password@host:7687)"
            ) from exc
        except (nex.ServiceUnavailable, nex.SessionExpired) as exc:
            self.close()
            raise ConnectionFailed(
                f"cannot reach Neo4j at {where} ({exc}); is it a Bolt endpoint? "
                "(FalkorDB is falkordb://host:port)"
            ) from exc
        except (nex.Neo4jError, nex.DriverError, StoreError) as exc:
            self.close()
            raise ConnectionFailed(
                f"the server at {where} speaks Bolt but is not a Neo4j server graphmem can use "
                f"({exc}); for FalkorDB use falkordb://host:port"
            ) from exc
        names = {str(r[0]) for r in rows}
        if not any(n.startswith("Neo4j") for n in names):
            self.close()
            raise ConnectionFailed(f"the server at {where} is {sorted(names)}, not Neo4j")
        version = str(rows[0][1])
        if _version(version) < MIN_VERSION:
            self.close()
            raise ConnectionFailed(
                f"Neo4j at {where} is version {version}; graphmem needs 5.15 or later "
                "(native vector indexes)"
            )

    # -- running ------------------------------------------------------------------------------
    def statement(self, name: str, **templates: str) -> Statement:
        stmt = load(self.name, name)
        return stmt.render(**templates) if stmt.templates else stmt

    def _session(self) -> Any:
        return (
            self._driver.session(database=self.database)
            if self.database
            else self._driver.session()
        )

    def _translate(self, exc: Exception, what: str, *, write: bool) -> Exception:
        from neo4j import exceptions as nex

        if isinstance(exc, nex.AuthError):
            return ConnectionFailed(f"Neo4j at {self.display_url} refused the credentials: {exc}")
        if isinstance(exc, nex.ServiceUnavailable | nex.SessionExpired):
            return StoreUnavailable(f"lost Neo4j at {self.display_url} while {what}: {exc}")
        if "TransactionTimedOut" in str(getattr(exc, "code", "") or ""):
            return StoreUnavailable(
                f"Neo4j at {self.display_url} did not finish {what} within {self.timeout:g} s "
                "(the store URL's ?timeout=SECONDS)"
            )
        if write:
            return TransactionFailed(
                f"Neo4j rolled back the transaction while {what}; nothing of it is stored: {exc}"
            )
        return StoreError(f"Neo4j failed while {what}: {exc}")

    def _bounded(self, work: Callable[[Any], T], timeout: float | None) -> Callable[[Any], T]:
        from neo4j import unit_of_work

        bounded: Callable[[Any], T] = unit_of_work(timeout=timeout)(work)
        return bounded

    def ping(self, timeout: float) -> None:
        """Raise :class:`StoreUnavailable` unless the server answers within ``timeout``."""
        failed: list[BaseException] = []

        def check() -> None:
            try:
                self._driver.verify_connectivity()
            except BaseException as exc:
                failed.append(exc)

        worker = threading.Thread(target=check, name="graphmem-neo4j-ping", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise StoreUnavailable(
                f"Neo4j at {self.display_url} did not answer a ping within {timeout:g} s"
            )
        if failed:
            raise StoreUnavailable(
                f"Neo4j at {self.display_url} did not answer a ping: {failed[0]}"
            ) from failed[0]

    def read(self, stmt: Statement, params: Params) -> list[Row]:
        from neo4j import exceptions as nex

        stmt.check_params(params)

        def work(tx: Any) -> list[Row]:
            return _Tx(tx, self.log).read(stmt, params)

        try:
            with self._session() as session:
                rows: list[Row] = session.execute_read(self._bounded(work, self.timeout))
                return rows
        except (nex.Neo4jError, nex.DriverError) as exc:
            raise self._translate(exc, f"running {stmt.name}", write=False) from exc

    def transaction(self, work: Callable[[Transaction], T], *, what: str) -> T:
        return self._write(work, what, self.timeout)

    def _write(self, work: Callable[[Transaction], T], what: str, timeout: float | None) -> T:
        """Run ``work`` in one write transaction the server ends after ``timeout`` seconds
        (None: no bound, for schema changes that wait for indexes)."""
        from neo4j import exceptions as nex

        def run(tx: Any) -> T:
            return work(_Tx(tx, self.log))

        try:
            with self._session() as session:
                out: T = session.execute_write(self._bounded(run, timeout))
        except (nex.Neo4jError, nex.DriverError) as exc:
            raise self._translate(exc, what, write=True) from exc
        self._stale.update(self._projected)
        return out

    def _run_one(self, stmt: Statement, params: Params) -> list[Row]:
        def work(tx: Transaction) -> list[Row]:
            return tx.read(stmt, params)

        # schema statements wait for indexes (up to 300 s): not bounded by the query timeout
        return self._write(work, f"running {stmt.name}", None)

    # -- schema -------------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        for name in SCHEMA:
            self._run_one(self.statement(name), {})
        # A new full-text index populates in the background; a query before it is online fails.
        self._run_one(self.statement("await_indexes"), {"seconds": 300})

    def ensure_vector_index(self, label: str, dim: int) -> None:
        if label in self._vector_indexes:
            return
        self._run_one(self.statement("create_vector_index", KIND=label), {"dimensions": int(dim)})
        self._run_one(self.statement("await_indexes"), {"seconds": 300})
        self._vector_indexes.add(label)

    # -- reads the dialects do differently ----------------------------------------------------
    def vector_query(
        self, label: str, queries: Sequence[Sequence[float]], fetch: int
    ) -> list[list[tuple[str, str, float]]]:
        index = f"gm_vector_{label}"
        if label not in self._vector_indexes:
            online = {str(r[0]) for r in self.read(self.statement("vector_indexes"), {})}
            self._vector_indexes.update(n.removeprefix("gm_vector_") for n in online)
            if index not in online:
                return [[] for _ in queries]
        params = {
            "index": index,
            "k": int(fetch),
            "queries": [{"i": i, "vector": [float(x) for x in q]} for i, q in enumerate(queries)],
        }
        out: list[list[tuple[str, str, float]]] = [[] for _ in queries]
        for i, ns, node_id, score in self.read(self.statement("vector_search"), params):
            out[int(i)].append((str(ns), str(node_id), float(score)))
        return out

    def vector_scan(
        self, namespace: str, label: str, queries: Sequence[Sequence[float]], k: int
    ) -> list[list[tuple[str, float]]]:
        params = {
            "ns": namespace,
            "k": int(k),
            "queries": [{"i": i, "vector": [float(x) for x in q]} for i, q in enumerate(queries)],
        }
        out: list[list[tuple[str, float]]] = [[] for _ in queries]
        for i, top in self.read(self.statement("vector_scan", KIND=label), params):
            out[int(i)] = [(str(node_id), float(score)) for node_id, score in top]
        return out

    def text_query(
        self, namespace: str, terms: Sequence[str], k: int, label: str = "Passage"
    ) -> list[tuple[str, float]]:
        params = {"query": lucene_query(list(terms)), "ns": namespace, "k": int(k)}
        name = "text_search" if label == "Passage" else "text_search_episodes"
        rows = self.read(self.statement(name), params)
        return [(str(i), float(s)) for i, s in rows]

    def adjacency(
        self, namespace: str, ids: Sequence[str], weights: Mapping[str, float]
    ) -> list[tuple[str, str, float]]:
        rows = self.read(
            self.statement("adjacent"),
            {"ns": namespace, "ids": list(ids), "weights": dict(weights)},
        )
        return [(str(a), str(b), float(w)) for a, b, w in rows]

    def degrees(self, namespace: str, ids: Sequence[str]) -> list[tuple[str, float]]:
        rows = self.read(self.statement("degrees"), {"ns": namespace, "ids": list(ids)})
        return [(str(nid), float(degree)) for nid, degree in rows]

    def graph_edges(
        self, namespace: str, weights: Mapping[str, float]
    ) -> Iterator[list[tuple[str, str, float]]]:
        rows = self.read(self.statement("graph_edges"), {"ns": namespace, "weights": dict(weights)})
        for i in range(0, len(rows), PAGE):
            yield [(str(s), str(d), float(w)) for s, d, w in rows[i : i + PAGE]]

    def graph_nodes(self, namespace: str, kinds: Sequence[str]) -> Iterator[list[str]]:
        rows = self.read(self.statement("graph_nodes"), {"ns": namespace, "kinds": list(kinds)})
        for i in range(0, len(rows), PAGE):
            yield [str(r[0]) for r in rows[i : i + PAGE]]

    # -- Graph Data Science -------------------------------------------------------------------
    def has_gds(self) -> bool:
        """Whether the server has the Graph Data Science library (asked once)."""
        if self._gds is None:
            try:
                self.read(self.statement("gds_version"), {})
                self._gds = True
            except StoreError:
                self._gds = False
        return self._gds

    def pagerank(
        self,
        namespace: str,
        seeds: Mapping[str, float],
        weights: Mapping[str, float],
        *,
        damping: float,
        tol: float,
        max_iter: int,
    ) -> dict[str, float] | None:
        """Personalized PageRank on the server (GDS), scores summing to 1; None without GDS.

        The namespace's PageRank graph is projected into GDS once and again after writes.
        """
        if not seeds or not self.has_gds():
            return None
        graph = "graphmem_" + hashlib.sha256(namespace.encode()).hexdigest()[:16]
        if namespace not in self._projected or namespace in self._stale:
            self.read(self.statement("gds_drop"), {"graph": graph})
            self.read(
                self.statement("gds_project"),
                {"graph": graph, "ns": namespace, "weights": dict(weights)},
            )
            self._projected[namespace] = graph
            self._stale.discard(namespace)
        rows = self.read(
            self.statement("gds_pagerank"),
            {
                "graph": graph,
                "ns": namespace,
                "seeds": [{"id": k, "weight": float(v)} for k, v in seeds.items()],
                "damping": float(damping),
                "tol": float(tol),
                "max_iter": int(max_iter),
            },
        )
        total = sum(float(r[1]) for r in rows)
        if total <= 0:
            return {}
        return {str(r[0]): float(r[1]) / total for r in rows if float(r[1]) > 0}

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken driver is not an error
            self._driver.close()
