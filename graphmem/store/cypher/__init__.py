"""Server stores that speak Cypher: Neo4j (official driver, Bolt) and FalkorDB (native client).

URL forms accepted by :func:`open_cypher_store` (and so by ``Memory(store=...)`` and ``--store``):

- ``neo4j://user:password@host:7687[/database]`` (also ``neo4j+s://``, ``neo4j+ssc://``,
  ``bolt://``, ``bolt+s://``, ``bolt+ssc://``); ``user``/``password``/``database`` may also be
  given as keyword options instead of in the URL.
- ``falkordb://[user:password@]host:6379[/graph]`` (the graph defaults to ``graphmem``);
  ``falkordbs://`` for TLS.

Both take ``?timeout=SECONDS``: how long one statement may wait for its reply (default
:data:`DEFAULT_TIMEOUT`, 30 s). A server that is down or frozen then fails the call with
:class:`~graphmem.errors.StoreUnavailable` within that bound instead of blocking; raise it for
very large single reads or writes on a slow server.

>>> _split("falkordb://:s3cret@db.example:6380/memory?timeout=30")[1:]
('db.example', 6380, '', 's3cret', 'memory', {'timeout': '30'})
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from graphmem.errors import ConfigError
from graphmem.store.cypher.dialect import DEFAULT_TIMEOUT
from graphmem.store.cypher.store import CypherStore

NEO4J_SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")
FALKORDB_SCHEMES = ("falkordb", "falkordbs")
#: the URL schemes this store serves (scheme -> the extra its driver comes with), read by
#: :func:`graphmem.store.open_store`
SCHEMES = {**dict.fromkeys(NEO4J_SCHEMES, "neo4j"), **dict.fromkeys(FALKORDB_SCHEMES, "falkordb")}

__all__ = [
    "DEFAULT_TIMEOUT",
    "FALKORDB_SCHEMES",
    "NEO4J_SCHEMES",
    "SCHEMES",
    "CypherStore",
    "open_cypher_store",
]


def _split(url: str) -> tuple[str, str, int | None, str, str, str, dict[str, str]]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"bad port in store URL {redact(url)!r}: {exc}") from exc
    if not parts.hostname:
        raise ConfigError(f"store URL {redact(url)!r} has no host")
    return (
        parts.scheme,
        parts.hostname,
        port,
        unquote(parts.username or ""),
        unquote(parts.password or ""),
        parts.path.strip("/"),
        dict(parse_qsl(parts.query)),
    )


def redact(url: str) -> str:
    """``url`` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{netloc}").geturl()


def _timeout(query: dict[str, str], opts: dict[str, Any], default: float) -> float:
    raw = opts.pop("timeout", query.pop("timeout", default))
    try:
        value = float(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"timeout must be a number of seconds, got {raw!r}") from exc
    if value <= 0:
        raise ConfigError(f"timeout must be positive, got {value}")
    return value


def open_cypher_store(url: str, **opts: Any) -> CypherStore:
    """Connect to the Cypher server at ``url`` and return a store on it.

    Fails at once with :class:`~graphmem.errors.ConnectionFailed` when the server is unreachable,
    refuses the credentials, or is not the kind of server the URL names.

    >>> open_cypher_store("mysql://localhost")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphmem.errors.ConfigError: not a Cypher store URL: 'mysql://localhost' (use neo4j://, ...)
    """
    scheme = urlsplit(url).scheme
    if scheme not in NEO4J_SCHEMES + FALKORDB_SCHEMES:
        known = ", ".join(s + "://" for s in NEO4J_SCHEMES + FALKORDB_SCHEMES)
        raise ConfigError(f"not a Cypher store URL: {redact(url)!r} (use {known})")
    scheme, host, port, user, password, path, query = _split(url)
    ensure_schema = bool(opts.pop("ensure_schema", True))
    if scheme in FALKORDB_SCHEMES:
        from graphmem.store.cypher.falkordb import FalkorDBDialect

        timeout = _timeout(query, opts, DEFAULT_TIMEOUT)
        graph = str(opts.pop("graph", None) or FalkorDBDialect.parse_graph_name(path))
        dialect: Any = FalkorDBDialect(
            host=host,
            port=port or 6379,
            graph=graph,
            username=opts.pop("username", None) or user or None,
            password=opts.pop("password", None) or password or None,
            timeout=timeout,
            ssl=scheme == "falkordbs",
            **opts,
        )
    else:
        from graphmem.store.cypher.neo4j import Neo4jDialect

        timeout = _timeout(query, opts, DEFAULT_TIMEOUT)
        base = f"{scheme}://{host}:{port or 7687}"
        dialect = Neo4jDialect(
            base,
            user=opts.pop("user", None) or user or "neo4j",
            password=opts.pop("password", None) or password or "",
            database=opts.pop("database", None) or path or None,
            timeout=timeout,
            **opts,
        )
    if query:
        dialect.close()
        raise ConfigError(f"unknown option(s) {sorted(query)} in store URL {redact(url)!r}")
    try:
        return CypherStore(dialect, url=redact(url), ensure_schema=ensure_schema)
    except BaseException:
        dialect.close()
        raise
