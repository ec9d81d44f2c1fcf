"""Client and AsyncClient: the methods of ``Memory`` over the GraphQL API."""

from __future__ import annotations

import asyncio
import threading
import time as _time
from collections.abc import Coroutine, Iterable
from datetime import datetime
from typing import Any, TypeVar

import httpx

from graphmem.client.core import (
    DEFAULT_URL,
    ClientCore,
    DocumentLike,
    JobInfo,
    Op,
    Pause,
    Request,
)
from graphmem.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    JobTimeout,
    LimitExceeded,
    NotSupported,
    PermissionDenied,
    RemoteError,
    RemoteInputError,
    RemoteNotFound,
    Unavailable,
)
from graphmem.models import (
    DeleteReport,
    Entity,
    Episode,
    EpisodeReport,
    IngestReport,
    Neighbor,
    Passage,
    SearchResult,
    Stats,
)

__all__ = [
    "AsyncClient",
    "AuthenticationFailed",
    "Client",
    "JobInfo",
    "JobTimeout",
    "LimitExceeded",
    "NotSupported",
    "PermissionDenied",
    "RemoteError",
    "RemoteInputError",
    "RemoteNotFound",
    "Unavailable",
]


R = TypeVar("R")
#: ``(start, end)`` for ``search(between=...)``; either end may be ``None``
Between = tuple[datetime | None, datetime | None]
T = TypeVar("T")


class _LoopThreadTransport(httpx.BaseTransport):
    """A sync transport over an async one (``httpx.ASGITransport``), on a private loop thread."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="graphmem-client", daemon=True
        )
        self.thread.start()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def go() -> httpx.Response:
            forwarded = httpx.Request(
                request.method, request.url, headers=request.headers, content=body
            )
            response = await self.inner.handle_async_request(forwarded)
            content = await response.aread()
            await response.aclose()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self._run(go())

    def close(self) -> None:
        if self.loop.is_running():
            self._run(self.inner.aclose())
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
        self.loop.close()


def _wrap(exc: httpx.HTTPError, url: str) -> ConnectionFailed:
    if isinstance(exc, httpx.TimeoutException):
        return ConnectionFailed(f"{url} did not answer in time ({type(exc).__name__})")
    return ConnectionFailed(f"cannot reach {url}: {exc}")


class Client:
    """A graphmem server, with the methods of :class:`graphmem.Memory`.

    >>> with Client("http://127.0.0.1:8000", api_key=None) as mem:      # doctest: +SKIP
    ...     mem.search("Where was Ada Lovelace born?").passages[0].passage.text
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        api_key: str | None = None,
        namespace: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        poll_interval: float = 0.5,
    ) -> None:
        self._core = ClientCore(url, api_key=api_key, namespace=namespace)
        if isinstance(transport, httpx.AsyncBaseTransport):
            transport = _LoopThreadTransport(transport)
        self._http = httpx.Client(transport=transport, timeout=timeout, headers=self._core.headers)
        self.poll_interval = poll_interval

    @property
    def url(self) -> str:
        return self._core.url

    def _drive(self, op: Op[R]) -> R:
        step: Any = next(op)
        while True:
            try:
                if isinstance(step, Pause):
                    _time.sleep(step.seconds)
                    reply: Any = None
                else:
                    reply = self._post(step)
            except Exception as exc:
                try:
                    step = op.throw(exc)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                continue
            try:
                step = op.send(reply)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]

    def _post(self, request: Request) -> dict[str, Any]:
        try:
            response = self._http.post(self._core.url, content=request.body())
        except httpx.HTTPError as exc:
            raise _wrap(exc, self._core.url) from exc
        return self._core.decode(response.status_code, response.content)

    # -- the Memory methods -------------------------------------------------------------------
    def add(
        self,
        text: str,
        *,
        source: str | None = None,
        title: str | None = None,
        time: datetime | None = None,
        metadata: dict[str, Any] | None = None,
        namespace: str | None = None,
    ) -> IngestReport:
        """Ingest one text and wait for it."""
        doc = {
            "text": text,
            "source": source,
            "title": title,
            "time": time,
            "metadata": metadata or {},
        }
        report = self.add_many([doc], namespace=namespace)
        assert isinstance(report, IngestReport)
        return report

    def add_many(
        self,
        docs: Iterable[DocumentLike],
        *,
        namespace: str | None = None,
        batch_size: int = 64,
        progress: bool = False,
        wait: bool = True,
        timeout: float | None = None,
    ) -> IngestReport | str:
        """Ingest documents on the server: its report, or with ``wait=False`` the job id."""
        return self._drive(
            self._core.add_many(
                docs,
                namespace=namespace,
                batch_size=batch_size,
                progress=progress,
                wait=wait,
                timeout=timeout,
                poll_interval=self.poll_interval,
            )
        )

    def job(self, job_id: str) -> JobInfo:
        """An ingest job's state."""
        return self._drive(self._core.job(job_id))

    def wait(self, job_id: str, *, timeout: float | None = None) -> IngestReport:
        """Wait for an ingest job; its report (or the error it failed with)."""
        return self._drive(
            self._core.wait(job_id, timeout=timeout, poll_interval=self.poll_interval)
        )

    def search(
        self,
        question: str,
        *,
        k: int = 5,
        namespace: str | None = None,
        as_of: datetime | None = None,
        between: Between | None = None,
        include: Iterable[str] | None = None,
    ) -> SearchResult:
        """Passages, facts, entities and episodes answering ``question`` (as ``Memory.search``)."""
        return self._drive(
            self._core.search(
                question, k=k, namespace=namespace, as_of=as_of, between=between, include=include
            )
        )

    def delete(self, *, source: str, namespace: str | None = None) -> DeleteReport:
        return self._drive(self._core.delete(source=source, namespace=namespace))

    def delete_namespace(self, namespace: str) -> DeleteReport:
        return self._drive(self._core.delete_namespace(namespace))

    def get_entity(self, id_or_name: str, *, namespace: str | None = None) -> Entity | None:
        return self._drive(self._core.get_entity(id_or_name, namespace=namespace))

    def get_passage(self, passage_id: str, *, namespace: str | None = None) -> Passage | None:
        return self._drive(self._core.get_passage(passage_id, namespace=namespace))

    def get_episode(self, episode_id: str, *, namespace: str | None = None) -> Episode | None:
        return self._drive(self._core.get_episode(episode_id, namespace=namespace))

    def neighbors(
        self, node_id: str, *, namespace: str | None = None, limit: int = 50
    ) -> list[Neighbor]:
        return self._drive(self._core.neighbors(node_id, namespace=namespace, limit=limit))

    def stats(self, namespace: str | None = None) -> Stats:
        return self._drive(self._core.stats(namespace))

    def add_episode(
        self,
        text: str,
        *,
        time: datetime | str | None,
        speaker: str | None = None,
        session: str | int | None = None,
        namespace: str | None = None,
        source: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> EpisodeReport:
        """Remember one turn or observation at ``time`` (as ``Memory.add_episode``)."""
        return self._drive(
            self._core.add_episode(
                text,
                time=time,
                speaker=speaker,
                session=session,
                source=source,
                metadata=metadata,
                namespace=namespace,
            )
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient:
    """:class:`Client` with awaitable methods (same names, arguments and results).

    >>> async def main():                                                # doctest: +SKIP
    ...     async with AsyncClient("http://127.0.0.1:8000") as mem:
    ...         return await mem.search("Where was Ada Lovelace born?")
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        api_key: str | None = None,
        namespace: str | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        poll_interval: float = 0.5,
    ) -> None:
        self._core = ClientCore(url, api_key=api_key, namespace=namespace)
        self._http = httpx.AsyncClient(
            transport=transport, timeout=timeout, headers=self._core.headers
        )
        self.poll_interval = poll_interval

    @property
    def url(self) -> str:
        return self._core.url

    async def _drive(self, op: Op[R]) -> R:
        step: Any = next(op)
        while True:
            try:
                if isinstance(step, Pause):
                    await asyncio.sleep(step.seconds)
                    reply: Any = None
                else:
                    reply = await self._post(step)
            except Exception as exc:
                try:
                    step = op.throw(exc)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                continue
            try:
                step = op.send(reply)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]

    async def _post(self, request: Request) -> dict[str, Any]:
        try:
            response = await self._http.post(self._core.url, content=request.body())
        except httpx.HTTPError as exc:
            raise _wrap(exc, self._core.url) from exc
        return self._core.decode(response.status_code, response.content)

    async def add(
        self,
        text: str,
        *,
        source: str | None = None,
        title: str | None = None,
        time: datetime | None = None,
        metadata: dict[str, Any] | None = None,
        namespace: str | None = None,
    ) -> IngestReport:
        doc = {
            "text": text,
            "source": source,
            "title": title,
            "time": time,
            "metadata": metadata or {},
        }
        report = await self.add_many([doc], namespace=namespace)
        assert isinstance(report, IngestReport)
        return report

    async def add_many(
        self,
        docs: Iterable[DocumentLike],
        *,
        namespace: str | None = None,
        batch_size: int = 64,
        progress: bool = False,
        wait: bool = True,
        timeout: float | None = None,
    ) -> IngestReport | str:
        return await self._drive(
            self._core.add_many(
                docs,
                namespace=namespace,
                batch_size=batch_size,
                progress=progress,
                wait=wait,
                timeout=timeout,
                poll_interval=self.poll_interval,
            )
        )

    async def job(self, job_id: str) -> JobInfo:
        return await self._drive(self._core.job(job_id))

    async def wait(self, job_id: str, *, timeout: float | None = None) -> IngestReport:
        return await self._drive(
            self._core.wait(job_id, timeout=timeout, poll_interval=self.poll_interval)
        )

    async def search(
        self,
        question: str,
        *,
        k: int = 5,
        namespace: str | None = None,
        as_of: datetime | None = None,
        between: Between | None = None,
        include: Iterable[str] | None = None,
    ) -> SearchResult:
        """Passages, facts, entities and episodes answering ``question`` (as ``Memory.search``)."""
        return await self._drive(
            self._core.search(
                question, k=k, namespace=namespace, as_of=as_of, between=between, include=include
            )
        )

    async def delete(self, *, source: str, namespace: str | None = None) -> DeleteReport:
        return await self._drive(self._core.delete(source=source, namespace=namespace))

    async def delete_namespace(self, namespace: str) -> DeleteReport:
        return await self._drive(self._core.delete_namespace(namespace))

    async def get_entity(self, id_or_name: str, *, namespace: str | None = None) -> Entity | None:
        return await self._drive(self._core.get_entity(id_or_name, namespace=namespace))

    async def get_passage(self, passage_id: str, *, namespace: str | None = None) -> Passage | None:
        return await self._drive(self._core.get_passage(passage_id, namespace=namespace))

    async def get_episode(self, episode_id: str, *, namespace: str | None = None) -> Episode | None:
        return await self._drive(self._core.get_episode(episode_id, namespace=namespace))

    async def neighbors(
        self, node_id: str, *, namespace: str | None = None, limit: int = 50
    ) -> list[Neighbor]:
        return await self._drive(self._core.neighbors(node_id, namespace=namespace, limit=limit))

    async def stats(self, namespace: str | None = None) -> Stats:
        return await self._drive(self._core.stats(namespace))

    async def add_episode(
        self,
        text: str,
        *,
        time: datetime | str | None,
        speaker: str | None = None,
        session: str | int | None = None,
        namespace: str | None = None,
        source: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> EpisodeReport:
        """Remember one turn or observation at ``time`` (as ``Memory.add_episode``)."""
        return await self._drive(
            self._core.add_episode(
                text,
                time=time,
                speaker=speaker,
                session=session,
                source=source,
                metadata=metadata,
                namespace=namespace,
            )
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
