"""A store outage reaches an MCP client as a tool error saying the store is unavailable (not an
internal error), and the next call opens the store again."""

from __future__ import annotations

from typing import Any, cast

import anyio
import pytest
from mcp.server.mcpserver.exceptions import ToolError

from graphmem.errors import StoreError, StoreUnavailable
from graphmem.mcp.backend import Backend, Caller
from graphmem.memory import Memory


class _Memory:
    """Stands in for a Memory: only ``close`` is called by the backend itself."""

    def close(self) -> None:
        pass


def _backend(opened: list[int], *, fail_open: bool = False) -> Backend:
    def factory(old: Memory | None) -> Memory:
        opened.append(1)
        if fail_open and len(opened) == 1:
            raise StoreUnavailable("lost FalkorDB at localhost:6379 while connecting")
        return cast(Memory, _Memory())

    return Backend(factory, Caller(namespace="ns"))


def _down(m: Memory, ns: str) -> Any:
    raise StoreUnavailable("FalkorDB did not answer within 2 s")


def test_a_call_that_finds_the_store_down_says_unavailable_and_reopens() -> None:
    opened: list[int] = []
    backend = _backend(opened)
    for call in (backend.read, backend.write):
        with pytest.raises(ToolError, match="the store is unavailable, try again") as caught:
            anyio.run(call, _down)
        assert "did not answer within 2 s" in str(caught.value)
    assert anyio.run(backend.read, lambda m, ns: ns) == "ns"
    assert len(opened) == 3  # each outage made the next call open the store again


def test_a_store_that_cannot_be_opened_says_unavailable() -> None:
    opened: list[int] = []
    backend = _backend(opened, fail_open=True)
    with pytest.raises(ToolError, match="the store is unavailable"):
        anyio.run(backend.read, lambda m, ns: ns)
    assert anyio.run(backend.read, lambda m, ns: ns) == "ns"


def test_another_store_failure_is_a_store_error_not_unavailable() -> None:
    def broken(m: Memory, ns: str) -> Any:
        raise StoreError("disk I/O error")

    with pytest.raises(ToolError, match="the store failed: disk I/O error"):
        anyio.run(_backend([]).read, broken)
