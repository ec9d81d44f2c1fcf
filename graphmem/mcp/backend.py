"""The memory behind the MCP server: opened once, reopened after its store went away.

Tool calls are blocking library calls, so they run on worker threads (reads side by side,
writes one at a time). Which namespace a call acts on is never an argument: it is the
:class:`Caller` of the request (fixed by the command line over stdio, by the API key over
HTTP), set by :func:`caller_middleware` before any handler runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
from mcp.server.mcpserver.exceptions import ToolError

from graphmem.errors import ConnectionFailed, GraphmemError, StoreError

if TYPE_CHECKING:
    from graphmem.memory import Memory

log = logging.getLogger(__name__)
T = TypeVar("T")


def _always() -> bool:
    return True


@dataclass(frozen=True)
class Caller:
    """Who a request acts for: its namespace, whether it may write, and ``valid``: whether its
    API key still holds (a long write asks between batches, and stops once it is revoked)."""

    namespace: str
    read_only: bool = False
    key_id: str | None = None
    valid: Callable[[], bool] = field(default=_always, compare=False, repr=False)


_CALLER: ContextVar[Caller | None] = ContextVar("graphmem_mcp_caller", default=None)


def current_caller(default: Caller) -> Caller:
    """The caller of the request being handled (``default`` outside an authenticated one)."""
    return _CALLER.get() or default


def set_caller(caller: Caller | None) -> Any:
    """Bind ``caller`` to the running request; returns the token to reset it with."""
    return _CALLER.set(caller)


def reset_caller(token: Any) -> None:
    _CALLER.reset(token)


class Backend:
    """One :class:`Memory` over one store, shared by every session of the server.

    ``factory`` builds the memory (it opens the store); when that fails, or a call finds the
    store gone (:class:`ConnectionFailed`), the next call builds it again, so the server serves
    again as soon as the store is back. ``default`` is the caller of stdio and open HTTP.
    """

    def __init__(
        self,
        factory: Callable[[Memory | None], Memory],
        default: Caller,
        *,
        readers: int = 8,
    ) -> None:
        self._factory = factory
        self.default = default
        self._memory: Memory | None = None
        self._stale = True
        self._open_error: str | None = None
        self._open_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._readers = anyio.CapacityLimiter(readers)

    # -- the memory ---------------------------------------------------------------------------
    def open(self) -> Memory:
        """The memory, opened (again) if needed; :class:`StoreError` when the store is away."""
        with self._open_lock:
            if self._memory is not None and not self._stale:
                return self._memory
            old = self._memory
            try:
                mem = self._factory(old)
            except StoreError as exc:
                self._open_error = str(exc)
                raise
            self._memory, self._stale, self._open_error = mem, False, None
            if old is not None and old is not mem:
                try:
                    old.close()
                except Exception as exc:  # the old connection is gone anyway
                    log.debug("closing the previous store failed: %s", exc)
            return mem

    def mark_stale(self) -> None:
        self._stale = True

    def warm_up(self) -> None:
        """Open the store and load the embedding model now, not on the first question."""
        try:
            mem = self.open()
            mem.embedder.embed(["warm up"], kind="query")
            if mem.namer is not None:  # spaCy's pipeline, when it names the questions
                mem.namer("warm up")
        except GraphmemError as exc:
            log.warning("warm-up failed (the first call will try again): %s", exc)

    def close(self) -> None:
        with self._open_lock:
            if self._memory is not None:
                self._memory.close()
            self._memory = None

    # -- running calls --------------------------------------------------------------------------
    def caller(self) -> Caller:
        return current_caller(self.default)

    async def read(self, fn: Callable[[Memory, str], T]) -> T:
        """``fn(memory, namespace)`` on a worker thread, as a tool error if it fails."""
        ns = self.caller().namespace
        return await anyio.to_thread.run_sync(self._guarded, fn, ns, None, limiter=self._readers)

    async def write(self, fn: Callable[[Memory, str], T]) -> T:
        """Like :meth:`read`, for calls that change memory: one at a time, not read-only keys."""
        caller = self.caller()
        if caller.read_only:
            raise ToolError("this API key is read-only: it cannot change memory")
        return await anyio.to_thread.run_sync(self._guarded, fn, caller.namespace, caller)

    def _guarded(self, fn: Callable[[Memory, str], T], ns: str, writer: Caller | None) -> T:
        try:
            mem = self.open()
            if writer is not None:
                with self._write_lock:
                    # a write that waited for the lock while its key was revoked changes nothing
                    if not writer.valid():
                        raise ToolError("this API key was revoked: nothing was changed")
                    return fn(mem, ns)
            return fn(mem, ns)
        except ConnectionFailed as exc:
            self.mark_stale()
            raise ToolError(f"the store is unavailable, try again once it is back: {exc}") from exc
        except StoreError as exc:
            # reopened on the next call: a file or server that came back is used again
            self.mark_stale()
            raise ToolError(f"the store failed: {exc}") from exc
        except GraphmemError as exc:
            raise ToolError(str(exc)) from exc
