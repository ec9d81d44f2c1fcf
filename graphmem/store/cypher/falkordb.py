"""The FalkorDB dialect: FalkorDB's native client (Redis protocol), not its Bolt endpoint.

FalkorDB's Bolt endpoint is not usable (it crashes on parameters over ~4 KB and ignores
rollback), so this dialect speaks ``GRAPH.QUERY`` through the ``falkordb`` client. Parameters
travel in the query's ``CYPHER name=value`` header; :func:`encode` writes them as Cypher
literals (strings quoted and escaped, never spliced into the statement itself).

Write atomicity (what a failed batch leaves behind)
----------------------------------------------------
FalkorDB has no multi-statement transactions, but it applies one query atomically: a query that
fails part-way is undone, and it is appended to the AOF only once it has completed. So a unit of
work sends all its writes as **one** query (each statement a ``CALL { ... }`` subquery):

- an error inside the query (a bad value, a type error) leaves nothing behind;
- the server stopping or the connection dropping leaves either the whole batch or none of it
  (after a restart, the AOF replays whole queries only), but the client cannot tell which;
  :class:`~graphmem.errors.ConnectionFailed` says so, and re-running the batch repairs it, because
  every write is a MERGE keyed by (namespace, id) or (type, src, dst): nothing is duplicated.

What is not atomic: a unit of work's reads run before its writes, without a lock, so two clients
writing the same namespace at once can interleave between them (FalkorDB still serializes the
queries themselves). Deleting a source reads what to delete, then deletes it in one query.

What FalkorDB 4.16 does differently, and how the statements cope (found by running them):

- a MERGE of a relationship that an earlier row of the same query created, followed by
  ``ON MATCH SET``, crashes the server: rows are made unique per MERGE key before sending;
- a ``SET`` followed by a ``WHERE`` that drops the row loses that SET: every statement filters
  first and then writes all its properties in one SET clause;
- adding a label to an existing node costs about a millisecond: nodes are MERGEd with both their
  labels at once (a stub gets its kind's label first, in ``promote_stubs``);
- updating any property of a node with a vector-indexed embedding re-inserts it in the HNSW
  index: unchanged nodes are not written again;
- an index on ``namespace`` would be intersected with the one on ``id`` on every lookup, which is
  several times slower than the ``id`` index alone: FalkorDB gets no namespace index;
- ``vecf32`` silently leaves vectors of another dimension out of the index: dimensions are
  checked before writing;
- replies carry 15 significant digits of a double (stored values are exact).

Parameters are written by :mod:`graphmem.store.cypher.params`.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from graphmem.errors import (
    ConfigError,
    ConnectionFailed,
    StoreError,
    StoreUnavailable,
    TransactionFailed,
)
from graphmem.store.cypher.dialect import (
    DEFAULT_TIMEOUT,
    Params,
    RecordingTransaction,
    Row,
    Transaction,
)
from graphmem.store.cypher.params import compose, header
from graphmem.store.cypher.queries import Statement, load
from graphmem.store.lexical import redisearch_query

T = TypeVar("T")

_GRAPH_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
#: nodes per page when reading a whole namespace (internal-id ranges, so no SKIP scans)
PAGE = 50_000
#: the schema statements, in order (each creates one index; "already indexed" is fine)
SCHEMA = (
    "create_node_key",
    # No index on namespace alone: FalkorDB would intersect it with the id index on every
    # (namespace, id) lookup, several times slower than the id index and a filter.
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


class FalkorDBDialect:
    """FalkorDB through its native client. ``url`` is only used in messages.

    >>> FalkorDBDialect.parse_graph_name("/mygraph")
    'mygraph'
    """

    name = "falkordb"
    #: RediSearch's default scorer; FalkorDB's procedure offers no other
    text_ranking = "tfidf"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 6379,
        graph: str = "graphmem",
        username: str | None = None,
        password: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = 5.0,
        retries: int = 2,
        ssl: bool = False,
    ) -> None:
        if not _GRAPH_NAME.match(graph):
            raise ConfigError(f"invalid FalkorDB graph name {graph!r}: use A-Z a-z 0-9 _ . : -")
        self.display_url = f"{'falkordbs' if ssl else 'falkordb'}://{host}:{port}/{graph}"
        self.graph_name = graph
        self.retries = retries
        self.timeout = timeout
        self._address: dict[str, Any] = {
            "host": host,
            "port": port,
            "username": username,
            "password": password,
            "ssl": ssl,
        }
        self._vector_indexes: set[str] = set()
        try:
            from falkordb import FalkorDB
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError(
                "falkordb:// needs the falkordb package: pip install 'graphmem[falkordb]'"
            ) from exc
        import redis.exceptions as rex

        try:
            # The client already talks to the server here (it asks whether it is a Sentinel).
            self._db = FalkorDB(
                host=host,
                port=port,
                username=username,
                password=password,
                socket_timeout=timeout,
                socket_connect_timeout=connect_timeout,
                ssl=ssl,
            )
        except rex.RedisError as exc:
            raise self._connect_error(exc) from exc
        self._graph = self._db.select_graph(graph)
        self._check_server()

    @staticmethod
    def parse_graph_name(path: str) -> str:
        name = path.strip("/") or "graphmem"
        if not _GRAPH_NAME.match(name):
            raise ConfigError(f"invalid FalkorDB graph name {name!r}: use A-Z a-z 0-9 _ . : -")
        return name

    # -- connecting ---------------------------------------------------------------------------
    def _connect_error(self, exc: Exception) -> ConnectionFailed:
        """The one clear error for a server we cannot use, by what went wrong."""
        import redis.exceptions as rex

        where = self.display_url
        text = str(exc)
        if isinstance(exc, rex.AuthenticationError) or "NOAUTH" in text or "WRONGPASS" in text:
            return ConnectionFailed(
                f"FalkorDB at {where} refused the credentials ({text}): check the user and "
                "password in the URL (falkordb://user:password@host:port)"
            )
        if isinstance(exc, rex.TimeoutError):
            return ConnectionFailed(
                f"FalkorDB at {where} did not answer in time ({text}); is it a Redis port? "
                "(for Neo4j use neo4j:// or bolt://)"
            )
        if isinstance(exc, rex.ConnectionError) and (
            "refused" in text or "resolve" in text.lower() or "Name or service" in text
        ):
            return ConnectionFailed(f"cannot reach FalkorDB at {where}: {text}")
        return ConnectionFailed(
            f"the server at {where} is not a FalkorDB server ({type(exc).__name__}: {text}); "
            "for Neo4j use neo4j:// or bolt://"
        )

    def _check_server(self) -> None:
        """Fail now, with one clear error, if the server refuses us or is not FalkorDB."""
        import redis.exceptions as rex

        try:
            modules = self._db.connection.execute_command("MODULE", "LIST")
        except rex.RedisError as exc:
            raise self._connect_error(exc) from exc
        names = set()
        for entry in modules or []:
            fields = dict(zip(entry[::2], entry[1::2], strict=False))
            name = fields.get(b"name", fields.get("name"))
            names.add(name.decode() if isinstance(name, bytes) else str(name))
        if "graph" not in names:
            raise ConnectionFailed(
                f"the server at {self.display_url} is Redis without the FalkorDB module "
                f"(modules: {sorted(names) or 'none'}): start it with --loadmodule falkordb.so"
            )

    # -- running ------------------------------------------------------------------------------
    def statement(self, name: str, **templates: str) -> Statement:
        stmt = load(self.name, name)
        return stmt.render(**templates) if stmt.templates else stmt

    def _run(self, text: str, params: Mapping[str, Any], *, read_only: bool, what: str) -> Any:
        import redis.exceptions as rex

        query = header(params) + text
        attempt = 0
        while True:
            try:
                if read_only:
                    return self._graph.ro_query(query)
                return self._graph.query(query)
            except (rex.ConnectionError, rex.TimeoutError) as exc:
                # A dropped connection is retried (reads are safe to retry; so are writes: every
                # write is an idempotent MERGE); a timeout is not: a frozen server would hold the
                # caller for several timeouts, and a slow query would only run again.
                attempt += 1
                if attempt <= self.retries and not isinstance(exc, rex.TimeoutError):
                    time.sleep(0.2 * attempt)
                    continue
                raise self._unavailable(exc, what, write=not read_only) from exc
            except rex.ResponseError as exc:
                if read_only:
                    raise StoreError(f"FalkorDB failed while {what}: {exc}") from exc
                raise TransactionFailed(
                    f"FalkorDB rejected the write while {what}; nothing of it is stored: {exc}"
                ) from exc
            except rex.RedisError as exc:
                raise StoreError(f"FalkorDB failed while {what}: {exc}") from exc

    def _unavailable(self, exc: Exception, what: str, *, write: bool) -> StoreUnavailable:
        import redis.exceptions as rex

        if isinstance(exc, rex.TimeoutError):
            lost = (
                f"FalkorDB at {self.display_url} did not answer within {self.timeout:g} s while "
                f"{what} (is it frozen? the bound is the store URL's ?timeout=SECONDS)"
            )
        else:
            lost = f"lost FalkorDB at {self.display_url} while {what}: {exc}"
        if write:
            lost += (
                ". The write is either wholly stored or not at all (FalkorDB applies a query "
                "atomically); re-run it once the server is back: it repairs, never duplicates."
            )
        return StoreUnavailable(lost)

    def ping(self, timeout: float) -> None:
        """Raise :class:`StoreUnavailable` unless the server answers PING within ``timeout``
        seconds (on a connection of its own, so a long query elsewhere does not delay it)."""
        import redis
        import redis.exceptions as rex
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # no retries: redis-py's default would retry a silent server ten times
        client = redis.Redis(
            **self._address,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            client.ping()
        except rex.RedisError as exc:
            raise self._unavailable(exc, "answering a ping", write=False) from exc
        finally:
            with contextlib.suppress(Exception):
                client.close()

    def read(self, stmt: Statement, params: Params) -> list[Row]:
        stmt.check_params(params)
        result = self._run(stmt.text, params, read_only=True, what=f"running {stmt.name}")
        return [tuple(r) for r in result.result_set]

    def transaction(self, work: Callable[[Transaction], T], *, what: str) -> T:
        tx = RecordingTransaction(reader=self.read)
        out = work(tx)
        if tx.writes:
            text, params = compose(tx.writes)
            self._run(text, params, read_only=False, what=what)
        return out

    # -- schema -------------------------------------------------------------------------------
    def _ddl(self, stmt: Statement, params: Params) -> None:
        import redis.exceptions as rex

        stmt.check_params(params)
        try:
            self._graph.query(header(params) + stmt.text)
        except rex.ResponseError as exc:
            if "already indexed" not in str(exc):
                raise StoreError(f"FalkorDB could not run {stmt.name}: {exc}") from exc
        except (rex.ConnectionError, rex.TimeoutError) as exc:
            raise self._unavailable(exc, f"running {stmt.name}", write=False) from exc
        except rex.RedisError as exc:
            raise ConnectionFailed(f"lost FalkorDB at {self.display_url}: {exc}") from exc

    def ensure_schema(self) -> None:
        for name in SCHEMA:
            self._ddl(self.statement(name), {})

    def ensure_vector_index(self, label: str, dim: int) -> None:
        if label in self._vector_indexes:
            return
        stmt = self.statement("create_vector_index", KIND=label)
        self._ddl(stmt, {"dimensions": int(dim)})
        self._vector_indexes.add(label)

    # -- reads the dialects do differently ----------------------------------------------------
    def vector_query(
        self, label: str, queries: Sequence[Sequence[float]], fetch: int
    ) -> list[list[tuple[str, str, float]]]:
        """Raw nearest neighbours of ``label`` nodes: (namespace, id, cosine) per query."""
        if label not in self._vector_indexes and not self._has_vector_index(label):
            return [[] for _ in queries]
        stmt = self.statement("vector_search")
        params = {
            "label": label,
            "k": int(fetch),
            "queries": [{"i": i, "vector": list(map(float, q))} for i, q in enumerate(queries)],
        }
        out: list[list[tuple[str, str, float]]] = [[] for _ in queries]
        for i, ns, node_id, score in self.read(stmt, params):
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
        # RediSearch's default scorer (TF-IDF, document-length normalized), not BM25.
        params = {"query": redisearch_query(list(terms)), "ns": namespace, "k": int(k)}
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
        if not rows or not rows[0][0]:
            return []
        return [(str(a), str(b), float(w)) for a, b, w in json.loads(rows[0][0])]

    def degrees(self, namespace: str, ids: Sequence[str]) -> list[tuple[str, float]]:
        return self._degree_page("degrees", namespace, ids)

    def out_degrees(self, namespace: str, ids: Sequence[str]) -> list[tuple[str, float]]:
        """Outgoing relationship counts: a cheap lower bound of :meth:`degrees` here."""
        return self._degree_page("out_degrees", namespace, ids)

    def _degree_page(
        self, name: str, namespace: str, ids: Sequence[str]
    ) -> list[tuple[str, float]]:
        rows = self.read(self.statement(name), {"ns": namespace, "ids": list(ids)})
        if not rows or not rows[0][0]:
            return []
        return [(str(nid), float(degree)) for nid, degree in json.loads(rows[0][0])]

    def _has_vector_index(self, label: str) -> bool:
        rows = self.read(self.statement("vector_indexes"), {})
        found = {str(r[0]) for r in rows}
        self._vector_indexes.update(found)
        return label in found

    def _pages(self, stmt: Statement, params: dict[str, Any]) -> Iterator[list[Any]]:
        """Run a paged statement over internal-id ranges; each page returns one JSON list."""
        (top,) = self.read(self.statement("max_node_id"), {})[0]
        if top is None:
            return
        lo = 0
        while lo <= int(top):
            rows = self.read(stmt, {**params, "lo": lo, "hi": lo + PAGE})
            if rows and rows[0][0]:
                yield json.loads(rows[0][0])
            lo += PAGE

    def graph_edges(
        self, namespace: str, weights: Mapping[str, float]
    ) -> Iterator[list[tuple[str, str, float]]]:
        stmt = self.statement("graph_edges")
        for page in self._pages(stmt, {"ns": namespace, "weights": dict(weights)}):
            yield [(str(s), str(d), float(w)) for s, d, w in page]

    def graph_nodes(self, namespace: str, kinds: Sequence[str]) -> Iterator[list[str]]:
        stmt = self.statement("graph_nodes")
        for page in self._pages(stmt, {"ns": namespace, "kinds": list(kinds)}):
            yield [str(x) for x in page]

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a dead connection is not an error
            self._db.connection.close()
