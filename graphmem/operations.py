"""The memory operations, listed once: what :class:`~graphmem.Memory`,
:class:`~graphmem.AsyncMemory`, :class:`~graphmem.Client` and :class:`~graphmem.AsyncClient`
all offer, with one signature each.

:class:`MemoryOperations` is the list (``AsyncMemoryOperations`` its awaitable twin); code that
takes "a memory, local or remote" can annotate with it.
``tests/unit/facade/test_operations.py`` checks the four classes against it: the same names,
parameter names, kinds and defaults (and, for the two local classes, the same annotations). What a remote client cannot do is declared here, with
the reason, in :data:`REMOTE_OMISSIONS`; the parameters only a client takes in
:data:`REMOTE_EXTRAS`.

>>> "add_note" in OPERATIONS and "explain" in REMOTE_OMISSIONS
True
"""

from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeVar

from graphmem.errors import ConfigError
from graphmem.models import Document, EpisodeIn

if TYPE_CHECKING:
    import networkx as nx

    from graphmem.async_memory import AsyncMemory
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
    from graphmem.retrieve.search import Between
    from graphmem.viz.explain import Explanation

__all__ = [
    "OPERATIONS",
    "REMOTE_EXTRAS",
    "REMOTE_OMISSIONS",
    "AsyncMemoryOperations",
    "DocumentLike",
    "EpisodeLike",
    "MemoryOperations",
]

#: what the ingest operations take: a Document, its text, or a dict of its fields
DocumentLike = Document | str | Mapping[str, Any]
EpisodeLike = EpisodeIn | Mapping[str, Any]
T = TypeVar("T")


class MemoryOperations(Protocol):
    """The memory operations (see the module docstring); ``Memory`` and ``Client`` have them."""

    # -- ingest -------------------------------------------------------------------------------
    def add(
        self,
        text: str,
        *,
        source: str | None = None,
        title: str | None = None,
        time: datetime | None = None,
        metadata: dict[str, Any] | None = None,
        namespace: str | None = None,
    ) -> IngestReport: ...

    def add_many(
        self,
        docs: Iterable[DocumentLike],
        *,
        namespace: str | None = None,
        batch_size: int = 64,
        progress: bool = False,
        retry_failed: bool = False,
        on_progress: Callable[[int], None] | None = None,
        replace_sources: bool = False,
    ) -> IngestReport: ...

    def retry_failed(
        self, *, namespace: str | None = None, batch_size: int = 64
    ) -> IngestReport: ...

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
    ) -> EpisodeReport: ...

    def add_episodes(
        self,
        episodes: Iterable[EpisodeLike],
        *,
        namespace: str | None = None,
        batch_size: int = 64,
        progress: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> EpisodeReport: ...

    def add_note(
        self, text: str, *, members: Iterable[str] | None = None, namespace: str | None = None
    ) -> Hyperedge: ...

    # -- search -------------------------------------------------------------------------------
    def search(
        self,
        question: str,
        *,
        k: int = 5,
        namespace: str | None = None,
        as_of: datetime | None = None,
        between: Between | None = None,
        include: Iterable[str] | None = None,
    ) -> SearchResult: ...

    def search_facts(
        self,
        question: str,
        *,
        k: int = 5,
        namespace: str | None = None,
        as_of: datetime | None = None,
        include_ended: bool = False,
    ) -> list[FactHit]: ...

    def explain(
        self, question: str, *, k: int = 5, namespace: str | None = None
    ) -> Explanation: ...

    # -- reads and deletes --------------------------------------------------------------------
    def get_entity(self, id_or_name: str, *, namespace: str | None = None) -> Entity | None: ...

    def get_passage(self, passage_id: str, *, namespace: str | None = None) -> Passage | None: ...

    def get_episode(self, episode_id: str, *, namespace: str | None = None) -> Episode | None: ...

    def neighbors(
        self, node_id: str, *, namespace: str | None = None, limit: int = 50
    ) -> list[Neighbor]: ...

    def get_nodes(
        self, ids: Sequence[str], *, namespace: str | None = None
    ) -> dict[str, Passage | Entity | Fact | Event | Hyperedge | Episode]: ...

    def links(
        self, ids: Sequence[str], *, namespace: str | None = None
    ) -> dict[str, list[Link]]: ...

    def to_networkx(self, namespace: str | None = None) -> nx.MultiDiGraph: ...

    def facts_of(self, entity: str, *, namespace: str | None = None) -> list[Fact]: ...

    def sources(self, prefix: str = "", *, namespace: str | None = None) -> list[str]: ...

    def export(
        self,
        out: Path | IO[str] | IO[bytes],
        *,
        format: str = "jsonl",
        namespace: str | None = None,
    ) -> dict[str, int]: ...

    # -- lifecycle ----------------------------------------------------------------------------
    def lifecycle(self, node_id: str, *, namespace: str | None = None) -> Lifecycle | None: ...

    def forget(
        self, *, policy: str, namespace: str | None = None, dry_run: bool = False
    ) -> ForgetReport: ...

    def consolidate(
        self, *, namespace: str | None = None, dry_run: bool = False, summaries: bool = False
    ) -> ConsolidateReport: ...

    def restore(
        self,
        ids: Sequence[str] | None = None,
        *,
        all_archived: bool = False,
        namespace: str | None = None,
    ) -> RestoreReport: ...

    def delete(self, *, source: str, namespace: str | None = None) -> DeleteReport: ...

    def delete_prefix(self, prefix: str, *, namespace: str | None = None) -> DeleteReport: ...

    def delete_namespace(self, namespace: str) -> DeleteReport: ...

    def warm(self, namespace: str | None = None) -> None: ...

    def stats(self, namespace: str | None = None) -> Stats: ...

    def check(self, namespace: str | None = None) -> None: ...

    def ping(self, timeout: float = 2.0) -> None: ...

    def close(self) -> None: ...


class AsyncMemoryOperations(Protocol):
    """:class:`MemoryOperations` with awaitable methods (``AsyncMemory``, ``AsyncClient``).

    Only the return types differ; the parameters are those of :class:`MemoryOperations`, which
    the signature test holds both lists to.
    """

    async def add(
        self,
        text: str,
        *,
        source: str | None = None,
        title: str | None = None,
        time: datetime | None = None,
        metadata: dict[str, Any] | None = None,
        namespace: str | None = None,
    ) -> IngestReport: ...

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
    ) -> IngestReport: ...

    async def retry_failed(
        self, *, namespace: str | None = None, batch_size: int = 64
    ) -> IngestReport: ...

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
    ) -> EpisodeReport: ...

    async def add_episodes(
        self,
        episodes: Iterable[EpisodeLike],
        *,
        namespace: str | None = None,
        batch_size: int = 64,
        progress: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> EpisodeReport: ...

    async def add_note(
        self, text: str, *, members: Iterable[str] | None = None, namespace: str | None = None
    ) -> Hyperedge: ...

    async def search(
        self,
        question: str,
        *,
        k: int = 5,
        namespace: str | None = None,
        as_of: datetime | None = None,
        between: Between | None = None,
        include: Iterable[str] | None = None,
    ) -> SearchResult: ...

    async def search_facts(
        self,
        question: str,
        *,
        k: int = 5,
        namespace: str | None = None,
        as_of: datetime | None = None,
        include_ended: bool = False,
    ) -> list[FactHit]: ...

    async def explain(
        self, question: str, *, k: int = 5, namespace: str | None = None
    ) -> Explanation: ...

    async def get_entity(
        self, id_or_name: str, *, namespace: str | None = None
    ) -> Entity | None: ...

    async def get_passage(
        self, passage_id: str, *, namespace: str | None = None
    ) -> Passage | None: ...

    async def get_episode(
        self, episode_id: str, *, namespace: str | None = None
    ) -> Episode | None: ...

    async def neighbors(
        self, node_id: str, *, namespace: str | None = None, limit: int = 50
    ) -> list[Neighbor]: ...

    async def get_nodes(
        self, ids: Sequence[str], *, namespace: str | None = None
    ) -> dict[str, Passage | Entity | Fact | Event | Hyperedge | Episode]: ...

    async def links(
        self, ids: Sequence[str], *, namespace: str | None = None
    ) -> dict[str, list[Link]]: ...

    async def to_networkx(self, namespace: str | None = None) -> nx.MultiDiGraph: ...

    async def facts_of(self, entity: str, *, namespace: str | None = None) -> list[Fact]: ...

    async def sources(self, prefix: str = "", *, namespace: str | None = None) -> list[str]: ...

    async def export(
        self,
        out: Path | IO[str] | IO[bytes],
        *,
        format: str = "jsonl",
        namespace: str | None = None,
    ) -> dict[str, int]: ...
    async def lifecycle(
        self, node_id: str, *, namespace: str | None = None
    ) -> Lifecycle | None: ...

    async def forget(
        self, *, policy: str, namespace: str | None = None, dry_run: bool = False
    ) -> ForgetReport: ...

    async def consolidate(
        self, *, namespace: str | None = None, dry_run: bool = False, summaries: bool = False
    ) -> ConsolidateReport: ...

    async def restore(
        self,
        ids: Sequence[str] | None = None,
        *,
        all_archived: bool = False,
        namespace: str | None = None,
    ) -> RestoreReport: ...

    async def delete(self, *, source: str, namespace: str | None = None) -> DeleteReport: ...

    async def delete_prefix(self, prefix: str, *, namespace: str | None = None) -> DeleteReport: ...

    async def delete_namespace(self, namespace: str) -> DeleteReport: ...

    async def warm(self, namespace: str | None = None) -> None: ...

    async def stats(self, namespace: str | None = None) -> Stats: ...

    async def check(self, namespace: str | None = None) -> None: ...

    async def ping(self, timeout: float = 2.0) -> None: ...

    async def close(self) -> None: ...


#: the operations' names, in the order above
OPERATIONS: tuple[str, ...] = tuple(
    name
    for name, member in vars(MemoryOperations).items()
    if not name.startswith("_") and inspect.isfunction(member)
)

#: operations ``Client`` and ``AsyncClient`` do not offer, and why (the signature test reads it)
REMOTE_OMISSIONS: dict[str, str] = {
    "get_nodes": (
        "the batched read behind the server's own DataLoaders; a client reads nodes one by one "
        "with get_entity, get_passage and get_episode (the server batches those itself)"
    ),
    "links": (
        "the unranked, batched neighbourhood read behind the server's DataLoaders; a client "
        "asks neighbors() for a node's neighbours, ranked and paged"
    ),
    "explain": (
        "an Explanation holds the walk's raw state (every seed and PageRank score over the "
        "namespace's graph) to draw it locally; over HTTP, search(...).subgraph is the subgraph "
        "behind an answer, and the server's /explore page draws it"
    ),
    "warm": (
        "a server warms the namespaces it serves in its own process; a client's call would "
        "only build structures in the server that its next search builds anyway"
    ),
    "facts_of": (
        "GraphQL has no field for an entity's facts; neighbors() lists them, each as a RELATES "
        "neighbour with the fact's id and text"
    ),
    "sources": (
        "GraphQL lists no sources; deleteSource answers with zero counts when a source matches "
        "nothing, and the server's operator lists them with the CLI where the store is"
    ),
    "export": (
        "it writes a whole namespace to a local file, which GraphQL's paged, size-limited "
        "answers are not for: run `graphmem export` where the store is"
    ),
    "check": (
        "a store's integrity is checked where the store is, by its operator (`graphmem stats` "
        "checks before it counts); a server answers /readyz for its own health"
    ),
    "lifecycle": (
        "not yet offered over GraphQL as an operation of its own: a client reads a fact's or "
        "episode's state and history from the lifecycle field of its node type"
    ),
    "forget": (
        "archiving by policy rewrites the state of a whole namespace; it runs where the store "
        "is (`graphmem forget`), not yet as a server mutation"
    ),
    "consolidate": (
        "not yet in the client: the server offers it as the consolidate mutation, which a "
        "client can send with its own GraphQL request"
    ),
    "restore": (
        "the twin of forget, which runs where the store is (`graphmem restore`); not yet a "
        "server mutation"
    ),
    "ping": (
        "it asks whether the memory's store answers, where the store is; a client asks the "
        "server's /readyz, which pings the store"
    ),
    "to_networkx": (
        "it copies a whole namespace into memory, which GraphQL's paged, size-limited answers "
        "are not for: run `graphmem export --format graphml` where the store is and read the "
        "file with networkx.read_graphml"
    ),
}

#: keyword-only parameters (with defaults) only the clients take, after the operation's own:
#: an ingest runs as a server job, which a caller may choose not to wait for
REMOTE_EXTRAS: dict[str, tuple[str, ...]] = {
    "add_many": ("wait", "timeout"),
}


if TYPE_CHECKING:

    def _conforms(memory: Memory, amemory: AsyncMemory) -> list[object]:
        """mypy checks the local classes against the protocols, types included."""
        checked: tuple[MemoryOperations, AsyncMemoryOperations] = (memory, amemory)
        return list(checked)


def renamed(old_name: str, old: T | None, new_name: str, new: T | None) -> T | None:
    """The value of a keyword renamed in 0.2 (``retrieval=`` is ``passage_search=`` ...); the old
    name still works for one release, with a DeprecationWarning."""
    if old is None:
        return new
    warnings.warn(
        f"Memory({old_name}=) is deprecated; use {new_name}=", DeprecationWarning, stacklevel=3
    )
    if new is not None:
        raise ConfigError(f"pass {new_name}= or {old_name}=, not both")
    return old


@contextlib.contextmanager
def progress_step(
    shown: bool, total: int | None, desc: str, unit: str, then: Callable[[int], None] | None
) -> Iterator[Callable[[int], None] | None]:
    """The ``on_progress`` of an ingest: ``then``, after a tqdm bar's update when ``shown``."""
    if not shown:
        yield then
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit=unit) as bar:

        def step(n: int) -> None:
            bar.update(n)
            if then:
                then(n)

        yield step
