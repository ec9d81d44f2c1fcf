"""``AsyncMemory``: :class:`~graphmem.memory.Memory` with awaitable methods.

Every public method of ``Memory`` has a twin here with the same parameters, defaults and
annotations (``tests/unit/facade/test_operations.py`` checks both against
:mod:`graphmem.operations`); each runs the blocking call on a worker thread.

>>> async def main():                                          # doctest: +SKIP
...     async with AsyncMemory("sqlite:///demo.db") as mem:
...         await mem.add("Ada Lovelace was born in London.")
...         return await mem.search("Where was Ada born?")
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from graphmem.embed.base import Embedder
from graphmem.extract.base import Extractor
from graphmem.ingest.episodes import EpisodeIngestSettings
from graphmem.ingest.hyperedges import HyperSettings
from graphmem.ingest.resolve import ResolverSettings
from graphmem.ingest.temporal import TemporalSettings
from graphmem.lifecycle.strength import StrengthSettings
from graphmem.memory import Memory
from graphmem.models import (
    ConsolidateReport,
    DeleteReport,
    Entity,
    Episode,
    EpisodeReport,
    Event,
    Fact,
    FactHit,
    ForgetReport,
    Hyperedge,
    IngestReport,
    Lifecycle,
    Link,
    Neighbor,
    Passage,
    RestoreReport,
    SearchResult,
    Stats,
)
from graphmem.operations import DocumentLike, EpisodeLike
from graphmem.retrieve.episodes import EpisodeSearchSettings
from graphmem.retrieve.passages import Namer, PassageSearchSettings
from graphmem.retrieve.search import Between
from graphmem.store import DEFAULT_STORE_URL
from graphmem.store.base import Store

if TYPE_CHECKING:
    import networkx as nx

    from graphmem.viz.explain import Explanation

__all__ = ["AsyncMemory"]


class AsyncMemory:
    """``Memory`` with awaitable methods (same names, same arguments, same results)."""

    def __init__(
        self,
        store: Store | str = DEFAULT_STORE_URL,
        *,
        embedder: Embedder | str = "local",
        extractor: Extractor | str | None = "nlp",
        namespace: str = "default",
        passage_search: PassageSearchSettings | None = None,
        resolver: ResolverSettings | None = None,
        episode_ingest: EpisodeIngestSettings | None = None,
        episode_search: EpisodeSearchSettings | None = None,
        temporal: TemporalSettings | None = None,
        hyperedges: HyperSettings | None = None,
        namer: Namer | str | None = "auto",
        strength: StrengthSettings | None = None,
        retrieval: PassageSearchSettings | None = None,
        episodes: EpisodeIngestSettings | None = None,
        episodic: EpisodeSearchSettings | None = None,
        create: bool = True,
    ) -> None:
        self.sync = Memory(
            store,
            embedder=embedder,
            extractor=extractor,
            namespace=namespace,
            passage_search=passage_search,
            resolver=resolver,
            episode_ingest=episode_ingest,
            episode_search=episode_search,
            temporal=temporal,
            hyperedges=hyperedges,
            namer=namer,
            strength=strength,
            retrieval=retrieval,
            episodes=episodes,
            episodic=episodic,
            create=create,
        )
        self.store = self.sync.store
        self.embedder = self.sync.embedder

    # -- ingest -------------------------------------------------------------------------------
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
        return await asyncio.to_thread(
            self.sync.add,
            text,
            source=source,
            title=title,
            time=time,
            metadata=metadata,
            namespace=namespace,
        )

    async def add_many(
        self,
        docs: Iterable[DocumentLike],
        *,
        namespace: str | None = None,
        batch_size: int = 64,
        progress: bool = False,
        retry_failed: bool = False,
        on_progress: Callable[[int], None] | None = None,
        replace_sources: bool = False,
    ) -> IngestReport:
        # read on the caller's side, so the worker thread gets a plain list
        return await asyncio.to_thread(
            self.sync.add_many,
            list(docs),
            namespace=namespace,
            batch_size=batch_size,
            progress=progress,
            retry_failed=retry_failed,
            on_progress=on_progress,
            replace_sources=replace_sources,
        )

    async def retry_failed(
        self, *, namespace: str | None = None, batch_size: int = 64
    ) -> IngestReport:
        return await asyncio.to_thread(
            self.sync.retry_failed, namespace=namespace, batch_size=batch_size
        )

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
        return await asyncio.to_thread(
            self.sync.add_episode,
            text,
            time=time,
            speaker=speaker,
            session=session,
            namespace=namespace,
            source=source,
            metadata=metadata,
        )

    async def add_episodes(
        self,
        episodes: Iterable[EpisodeLike],
        *,
        namespace: str | None = None,
        batch_size: int = 64,
        progress: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> EpisodeReport:
        return await asyncio.to_thread(
            self.sync.add_episodes,
            episodes,
            namespace=namespace,
            batch_size=batch_size,
            progress=progress,
            on_progress=on_progress,
        )

    async def add_note(
        self, text: str, *, members: Iterable[str] | None = None, namespace: str | None = None
    ) -> Hyperedge:
        return await asyncio.to_thread(
            self.sync.add_note, text, members=members, namespace=namespace
        )

    # -- search -------------------------------------------------------------------------------
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
        return await asyncio.to_thread(
            self.sync.search,
            question,
            k=k,
            namespace=namespace,
            as_of=as_of,
            between=between,
            include=include,
        )

    async def search_facts(
        self,
        question: str,
        *,
        k: int = 5,
        namespace: str | None = None,
        as_of: datetime | None = None,
        include_ended: bool = False,
    ) -> list[FactHit]:
        return await asyncio.to_thread(
            self.sync.search_facts,
            question,
            k=k,
            namespace=namespace,
            as_of=as_of,
            include_ended=include_ended,
        )

    async def explain(
        self, question: str, *, k: int = 5, namespace: str | None = None
    ) -> Explanation:
        return await asyncio.to_thread(self.sync.explain, question, k=k, namespace=namespace)

    # -- reads and deletes --------------------------------------------------------------------
    async def get_entity(self, id_or_name: str, *, namespace: str | None = None) -> Entity | None:
        return await asyncio.to_thread(self.sync.get_entity, id_or_name, namespace=namespace)

    async def get_passage(self, passage_id: str, *, namespace: str | None = None) -> Passage | None:
        return await asyncio.to_thread(self.sync.get_passage, passage_id, namespace=namespace)

    async def get_episode(self, episode_id: str, *, namespace: str | None = None) -> Episode | None:
        return await asyncio.to_thread(self.sync.get_episode, episode_id, namespace=namespace)

    async def neighbors(
        self, node_id: str, *, namespace: str | None = None, limit: int = 50
    ) -> list[Neighbor]:
        return await asyncio.to_thread(
            self.sync.neighbors, node_id, namespace=namespace, limit=limit
        )

    async def to_networkx(self, namespace: str | None = None) -> nx.MultiDiGraph:
        return await asyncio.to_thread(self.sync.to_networkx, namespace)

    async def get_nodes(
        self, ids: Sequence[str], *, namespace: str | None = None
    ) -> dict[str, Passage | Entity | Fact | Event | Hyperedge | Episode]:
        return await asyncio.to_thread(self.sync.get_nodes, ids, namespace=namespace)

    async def links(
        self, ids: Sequence[str], *, namespace: str | None = None
    ) -> dict[str, list[Link]]:
        return await asyncio.to_thread(self.sync.links, ids, namespace=namespace)

    async def facts_of(self, entity: str, *, namespace: str | None = None) -> list[Fact]:
        return await asyncio.to_thread(self.sync.facts_of, entity, namespace=namespace)

    async def sources(self, prefix: str = "", *, namespace: str | None = None) -> list[str]:
        return await asyncio.to_thread(self.sync.sources, prefix, namespace=namespace)

    async def export(
        self,
        out: Path | IO[str] | IO[bytes],
        *,
        format: str = "jsonl",
        namespace: str | None = None,
    ) -> dict[str, int]:
        return await asyncio.to_thread(self.sync.export, out, format=format, namespace=namespace)

    async def lifecycle(self, node_id: str, *, namespace: str | None = None) -> Lifecycle | None:
        return await asyncio.to_thread(self.sync.lifecycle, node_id, namespace=namespace)

    async def forget(
        self, *, policy: str, namespace: str | None = None, dry_run: bool = False
    ) -> ForgetReport:
        return await asyncio.to_thread(
            self.sync.forget, policy=policy, namespace=namespace, dry_run=dry_run
        )

    async def consolidate(
        self, *, namespace: str | None = None, dry_run: bool = False, summaries: bool = False
    ) -> ConsolidateReport:
        return await asyncio.to_thread(
            self.sync.consolidate, namespace=namespace, dry_run=dry_run, summaries=summaries
        )

    async def restore(
        self,
        ids: Sequence[str] | None = None,
        *,
        all_archived: bool = False,
        namespace: str | None = None,
    ) -> RestoreReport:
        return await asyncio.to_thread(
            self.sync.restore, ids, all_archived=all_archived, namespace=namespace
        )

    async def delete(self, *, source: str, namespace: str | None = None) -> DeleteReport:
        return await asyncio.to_thread(self.sync.delete, source=source, namespace=namespace)

    async def delete_prefix(self, prefix: str, *, namespace: str | None = None) -> DeleteReport:
        return await asyncio.to_thread(self.sync.delete_prefix, prefix, namespace=namespace)

    async def delete_namespace(self, namespace: str) -> DeleteReport:
        return await asyncio.to_thread(self.sync.delete_namespace, namespace)

    async def stats(self, namespace: str | None = None) -> Stats:
        return await asyncio.to_thread(self.sync.stats, namespace)

    async def check(self, namespace: str | None = None) -> None:
        await asyncio.to_thread(self.sync.check, namespace)

    async def ping(self, timeout: float = 2.0) -> None:
        """Raise StoreUnavailable unless the store answers in time (see :meth:`Memory.ping`)."""
        await asyncio.to_thread(self.sync.ping, timeout)

    async def warm(self, namespace: str | None = None) -> None:
        """Build the namespace's search structures now (see :meth:`Memory.warm`)."""
        await asyncio.to_thread(self.sync.warm, namespace)

    async def close(self) -> None:
        await asyncio.to_thread(self.sync.close)

    async def __aenter__(self) -> AsyncMemory:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
