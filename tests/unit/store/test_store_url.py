"""Store URLs: the accepted forms open, a URL typed wrong is refused (never taken for a file
name), and ``create=False`` never creates a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphmem import Memory
from graphmem.errors import ConfigError, NotFound
from graphmem.store import FORMS, open_store, sqlite_path


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///data/x.db", "data/x.db"),
        ("sqlite:////abs/x.db", "/abs/x.db"),
        ("SQLite:///x.db", "x.db"),
        ("x.db", "x.db"),
        ("./a:b.db", "./a:b.db"),
        ("/abs/x.db", "/abs/x.db"),
        ("C:\\data\\x.db", "C:\\data\\x.db"),  # a Windows drive letter is not a scheme
        (":memory:", ":memory:"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_forms(url: str, path: str) -> None:
    assert sqlite_path(url) == path


def test_server_urls_are_not_files() -> None:
    for url in ("neo4j://localhost:7687", "bolt+s://h", "falkordb://127.0.0.1:6379/g"):
        assert sqlite_path(url) is None


@pytest.mark.parametrize(
    "url", ["sqlite:data/x.db", "sqlite:/x.db", "sqlite://x.db", "neo4j:host", "mysql://x", " "]
)
def test_malformed_urls_are_refused_by_the_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        open_store(url)
    assert FORMS in str(info.value)
    with pytest.raises(ConfigError):
        Memory(url, extractor=None)
    assert list(tmp_path.iterdir()) == []


def test_create_false_refuses_a_missing_file_and_creates_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'm.db'}"
    with pytest.raises(NotFound, match="does not exist"):
        open_store(url, create=False)
    assert list(tmp_path.iterdir()) == []
    open_store(url).close()
    store = open_store(url, create=False)
    assert store.stats("default").passages == 0
    store.close()
    open_store(":memory:", create=False).close()
