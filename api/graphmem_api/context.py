"""What resolvers see: the running server's state and, per request, the caller and the loaders."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from graphmem.errors import AccessDenied
from graphmem.ids import check_namespace
from graphmem.keys import Principal
from graphmem_api.errors import BAD_REQUEST, FORBIDDEN, APIError
from graphmem_api.jobs import JobRunner
from graphmem_api.limits import Limits
from graphmem_api.settings import Settings

if TYPE_CHECKING:
    from graphmem.memory import Memory
    from graphmem_api.loaders import Loaders

T = TypeVar("T")


@dataclass
class Runtime:
    """The running server: its memory, job runner and the threads memory calls run on.

    A plain thread pool rather than anyio's limiter: it belongs to no event loop, so one app can
    serve from several loops (tests make one per test).
    """

    settings: Settings
    memory: Memory
    jobs: JobRunner
    executor: ThreadPoolExecutor

    async def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run a blocking memory or store call on a worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))


@dataclass
class Context:
    """The strawberry context of one request (or one websocket connection)."""

    runtime: Runtime
    principal: Principal | None
    request_id: str
    #: set by the websocket protocol from ``connection_init``
    connection_params: dict[str, Any] | None = None
    #: a websocket's session: ``{"principal": ...}``, watched for revoked keys
    session: dict[str, Any] | None = None
    _loaders: dict[str, Loaders] = field(default_factory=dict)

    @property
    def limits(self) -> Limits:
        return self.runtime.settings.limits

    @property
    def memory(self) -> Memory:
        return self.runtime.memory

    @property
    def caller(self) -> Principal:
        if self.principal is None:  # only a websocket that has not sent its key yet
            from graphmem_api.errors import UNAUTHENTICATED

            raise APIError("missing API key", UNAUTHENTICATED)
        return self.principal

    def namespace(self, namespace: str | None, *, write: bool = False) -> str:
        """The namespace a request acts on, after checking its name and the caller's rights."""
        caller = self.caller
        ns = namespace if namespace is not None else caller.default_namespace
        try:
            check_namespace(ns)
        except ValueError as exc:
            raise APIError(str(exc), BAD_REQUEST) from exc
        try:
            checked: str = caller.check(ns, write=write)
        except AccessDenied as exc:
            raise APIError(str(exc), FORBIDDEN) from exc
        return checked

    def loaders(self, namespace: str) -> Loaders:
        """This request's DataLoaders for one namespace (created on first use)."""
        found = self._loaders.get(namespace)
        if found is None:
            from graphmem_api.loaders import Loaders

            found = self._loaders[namespace] = Loaders(
                self.runtime.memory, namespace, self.runtime.call
            )
        return found
