"""Store URL schemes are declared once, by the store that serves them, and ``open_store`` reaches
that store for every one of them: SQLite, Neo4j (all six Bolt forms), FalkorDB and FalkorDB over
TLS (``falkordbs://``, once refused as "unknown store URL")."""

from __future__ import annotations

from typing import Any

import pytest

import graphmem.store.cypher as cypher
import graphmem.store.cypher.falkordb as falkordb_mod
import graphmem.store.cypher.neo4j as neo4j_mod
import graphmem.store.sqlite as sqlite_pkg
from graphmem.errors import ConfigError, ConnectionFailed
from graphmem.store import open_store, sqlite_path, store_schemes
from graphmem.store.sqlite import SQLiteStore


class Reached(Exception):
    """Raised by the stand-in dialects: the URL got as far as a store's own class."""

    def __init__(self, cls: str, kwargs: dict[str, Any]) -> None:
        super().__init__(cls)
        self.cls = cls
        self.kwargs = kwargs


@pytest.fixture
def dialects(monkeypatch: pytest.MonkeyPatch) -> None:
    # subclasses of the real dialects that stop in __init__, before any connection
    def stand_in(real: type) -> type:
        def init(self: object, *args: Any, **kwargs: Any) -> None:
            raise Reached(real.__name__, {"args": args, **kwargs})

        return type(real.__name__, (real,), {"__init__": init})

    monkeypatch.setattr(falkordb_mod, "FalkorDBDialect", stand_in(falkordb_mod.FalkorDBDialect))
    monkeypatch.setattr(neo4j_mod, "Neo4jDialect", stand_in(neo4j_mod.Neo4jDialect))


def test_the_table_is_the_union_of_what_the_stores_declare() -> None:
    declared = {*sqlite_pkg.SCHEMES, *cypher.SCHEMES}
    assert set(store_schemes()) == declared
    assert set(cypher.SCHEMES) == {*cypher.NEO4J_SCHEMES, *cypher.FALKORDB_SCHEMES}
    # the four classes of URL are all there (a guard against an empty table passing below)
    assert {"sqlite", "neo4j", "bolt+s", "falkordb", "falkordbs"} <= declared


@pytest.mark.parametrize("scheme", sorted(cypher.SCHEMES))
def test_every_server_scheme_is_a_server_url(scheme: str) -> None:
    assert sqlite_path(f"{scheme}://db.example:1234") is None


@pytest.mark.parametrize(
    ("scheme", "cls", "tls"),
    [(s, "Neo4jDialect", None) for s in cypher.NEO4J_SCHEMES]
    + [("falkordb", "FalkorDBDialect", False), ("falkordbs", "FalkorDBDialect", True)],
)
@pytest.mark.usefixtures("dialects")
def test_open_store_reaches_the_store_that_declares_the_scheme(
    scheme: str, cls: str, tls: bool | None
) -> None:
    with pytest.raises(Reached) as info:
        open_store(f"{scheme}://db.example:1234")
    assert info.value.cls == cls
    if tls is not None:
        assert info.value.kwargs["ssl"] is tls
        assert info.value.kwargs["host"] == "db.example"
    else:
        assert info.value.kwargs["args"] == (f"{scheme}://db.example:1234",)


def test_falkordbs_is_not_an_unknown_url() -> None:
    # the real class, on a port nobody listens on: a connection error, or a missing driver, but
    # never the "unknown store URL" that the scheme table once gave
    with pytest.raises((ConnectionFailed, ConfigError)) as info:
        open_store("falkordbs://127.0.0.1:1?timeout=1").close()
    if isinstance(info.value, ConnectionFailed):
        assert "FalkorDB at falkordbs://127.0.0.1:1" in str(info.value)
    else:  # the falkordb extra is not installed
        assert "pip install" in str(info.value)


def test_sqlite_scheme_opens_sqlite() -> None:
    store = open_store("sqlite:///:memory:")
    assert isinstance(store, SQLiteStore)
    store.close()
