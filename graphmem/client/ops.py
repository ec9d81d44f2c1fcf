"""The client's operations beyond those of :mod:`graphmem.client.core`: episodes in batches,
notes, prefix deletes, retrying failed extractions and the fact search. Sans-I/O like the core:
each yields its requests (and pauses) and returns its result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from pydantic import ValidationError

from graphmem.client.core import ClientCore, Op, Request, parse, selection
from graphmem.errors import InputError
from graphmem.models import (
    DeleteReport,
    EpisodeIn,
    EpisodeReport,
    FactHit,
    Hyperedge,
    IngestReport,
    add_reports,
    top_facts,
)

EpisodeLike = EpisodeIn | Mapping[str, Any]
R = TypeVar("R")

_Q_EPISODES = (
    "mutation AddEpisodes($episodes: [EpisodeInput!]!, $namespace: String, $batchSize: Int!) "
    "{ addEpisodes(episodes: $episodes, namespace: $namespace, batchSize: $batchSize) "
    f"{{ {selection(EpisodeReport)} }} }}"
)
_Q_NOTE = (
    "mutation AddNote($text: String!, $members: [String!], $namespace: String) "
    "{ addNote(text: $text, members: $members, namespace: $namespace) "
    f"{{ {selection(Hyperedge)} }} }}"
)
_Q_DELETE_PREFIX = (
    "mutation DeletePrefix($prefix: String!, $namespace: String) "
    f"{{ deletePrefix(prefix: $prefix, namespace: $namespace) {{ {selection(DeleteReport)} }} }}"
)
_Q_RETRY = (
    "mutation RetryFailed($namespace: String, $batchSize: Int!) "
    "{ retryFailed(namespace: $namespace, batchSize: $batchSize) { id } }"
)


def _episode(item: EpisodeLike, index: int) -> dict[str, Any]:
    try:
        ep = item if isinstance(item, EpisodeIn) else EpisodeIn.model_validate(item)
    except ValidationError as exc:
        raise InputError(f"not an episode: {exc}", field=f"episodes[{index}]") from exc
    when = ep.time.isoformat() if hasattr(ep.time, "isoformat") else ep.time
    return {
        "text": ep.text,
        "time": when,
        "speaker": ep.speaker,
        "session": str(ep.session) if ep.session is not None else None,
        "source": ep.source,
        "metadata": ep.metadata or None,
    }


def _batches(items: Iterable[EpisodeLike], size: int) -> Iterator[list[dict[str, Any]]]:
    it, start = iter(items), 0
    while chunk := list(islice(it, size)):
        yield [_episode(e, start + i) for i, e in enumerate(chunk)]
        start += len(chunk)


def add_episodes(
    core: ClientCore,
    episodes: Iterable[EpisodeLike],
    *,
    namespace: str | None,
    batch_size: int,
    progress: bool,
    on_progress: Callable[[int], None] | None,
) -> Op[EpisodeReport]:
    """One request per ``batch_size`` episodes (one transaction each on the server, in order),
    so a generator of many turns streams; the reports added up."""
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}", field="batch_size")
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc="episodes", unit="ep")
    report = EpisodeReport()
    try:
        for chunk in _batches(episodes, batch_size):
            data = yield Request(
                _Q_EPISODES,
                {"episodes": chunk, "namespace": core._ns(namespace), "batchSize": batch_size},
            )
            report = add_reports(report, parse(EpisodeReport, data["addEpisodes"]))
            if bar is not None:
                bar.update(len(chunk))
            if on_progress is not None:
                on_progress(len(chunk))
    finally:
        if bar is not None:
            bar.close()
    return report


def add_note(
    core: ClientCore, text: str, *, members: Iterable[str] | None, namespace: str | None
) -> Op[Hyperedge]:
    names = list(members) if members is not None else None
    data = yield Request(
        _Q_NOTE, {"text": text, "members": names, "namespace": core._ns(namespace)}
    )
    return parse(Hyperedge, data["addNote"])


def delete_prefix(core: ClientCore, prefix: str, *, namespace: str | None) -> Op[DeleteReport]:
    if not prefix:  # as Memory.delete_prefix: refused before it reaches the server
        raise InputError("an empty prefix would delete every source: use delete_namespace")
    data = yield Request(_Q_DELETE_PREFIX, {"prefix": prefix, "namespace": core._ns(namespace)})
    return parse(DeleteReport, data["deletePrefix"])


def retry_failed(
    core: ClientCore, *, namespace: str | None, batch_size: int, poll_interval: float
) -> Op[IngestReport]:
    """Queue the retry as a server job and wait for its report."""
    data = yield Request(_Q_RETRY, {"namespace": core._ns(namespace), "batchSize": batch_size})
    job_id: str = data["retryFailed"]["id"]
    return (yield from core.wait(job_id, timeout=None, poll_interval=poll_interval))


def search_facts(
    core: ClientCore,
    question: str,
    *,
    k: int,
    namespace: str | None,
    as_of: datetime | None,
    include_ended: bool,
) -> Op[list[FactHit]]:
    """As ``Memory.search_facts``: the search's facts (and its episodes'), ranked by
    :func:`graphmem.models.top_facts` here, as the library ranks them."""
    found = yield from core.search(
        question, k=k, namespace=namespace, as_of=as_of, include=["facts", "episodes"]
    )
    return top_facts(found, k, as_of=as_of, include_ended=include_ended)


class Operations:
    """``Client``'s methods for the operations above (a base of :class:`graphmem.Client`)."""

    _core: ClientCore
    poll_interval: float

    def _drive(self, op: Op[R]) -> R:
        raise NotImplementedError  # the client's own, which does the I/O

    def add_episodes(
        self,
        episodes: Iterable[EpisodeLike],
        *,
        namespace: str | None = None,
        batch_size: int = 64,
        progress: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> EpisodeReport:
        """Remember many episodes (dicts or ``EpisodeIn``), one request per batch."""
        return self._drive(
            add_episodes(
                self._core,
                episodes,
                namespace=namespace,
                batch_size=batch_size,
                progress=progress,
                on_progress=on_progress,
            )
        )

    def add_note(
        self, text: str, *, members: Iterable[str] | None = None, namespace: str | None = None
    ) -> Hyperedge:
        """Store a note joining entities (as ``Memory.add_note``); the hyperedge it became."""
        return self._drive(add_note(self._core, text, members=members, namespace=namespace))

    def search_facts(
        self,
        question: str,
        *,
        k: int = 5,
        namespace: str | None = None,
        as_of: datetime | None = None,
        include_ended: bool = False,
    ) -> list[FactHit]:
        """The facts answering ``question``, those that hold (now or at ``as_of``) first."""
        return self._drive(
            search_facts(
                self._core,
                question,
                k=k,
                namespace=namespace,
                as_of=as_of,
                include_ended=include_ended,
            )
        )

    def delete_prefix(self, prefix: str, *, namespace: str | None = None) -> DeleteReport:
        """Delete every source that starts with ``prefix``."""
        return self._drive(delete_prefix(self._core, prefix, namespace=namespace))

    def retry_failed(self, *, namespace: str | None = None, batch_size: int = 64) -> IngestReport:
        """Extract again every passage whose extraction failed (a server job; waits for it)."""
        return self._drive(
            retry_failed(
                self._core,
                namespace=namespace,
                batch_size=batch_size,
                poll_interval=self.poll_interval,
            )
        )


class AsyncOperations:
    """``AsyncClient``'s methods for the operations above."""

    _core: ClientCore
    poll_interval: float

    async def _drive(self, op: Op[R]) -> R:
        raise NotImplementedError

    async def add_episodes(
        self,
        episodes: Iterable[EpisodeLike],
        *,
        namespace: str | None = None,
        batch_size: int = 64,
        progress: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> EpisodeReport:
        return await self._drive(
            add_episodes(
                self._core,
                episodes,
                namespace=namespace,
                batch_size=batch_size,
                progress=progress,
                on_progress=on_progress,
            )
        )

    async def add_note(
        self, text: str, *, members: Iterable[str] | None = None, namespace: str | None = None
    ) -> Hyperedge:
        return await self._drive(add_note(self._core, text, members=members, namespace=namespace))

    async def search_facts(
        self,
        question: str,
        *,
        k: int = 5,
        namespace: str | None = None,
        as_of: datetime | None = None,
        include_ended: bool = False,
    ) -> list[FactHit]:
        """The facts answering ``question``, those that hold (now or at ``as_of``) first."""
        return await self._drive(
            search_facts(
                self._core,
                question,
                k=k,
                namespace=namespace,
                as_of=as_of,
                include_ended=include_ended,
            )
        )

    async def delete_prefix(self, prefix: str, *, namespace: str | None = None) -> DeleteReport:
        return await self._drive(delete_prefix(self._core, prefix, namespace=namespace))

    async def retry_failed(
        self, *, namespace: str | None = None, batch_size: int = 64
    ) -> IngestReport:
        return await self._drive(
            retry_failed(
                self._core,
                namespace=namespace,
                batch_size=batch_size,
                poll_interval=self.poll_interval,
            )
        )
