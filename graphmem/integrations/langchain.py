"""A LangChain retriever over graphmem (``pip install 'graphmem[langchain]'``).

Each retrieved passage or episode becomes a ``Document`` (one list by relevance) whose ``id`` is the
passage or episode id. ``metadata["kind"]`` says which. A passage's metadata holds graphmem's
score, the dense score, the rank, source, title, the facts that linked it to the question and the
entity path; an episode's the speaker, time, session and its facts; every fact carries its
validity (``valid_at``, ``invalid_at``, ``expired_at``, ``current``). See :func:`hit_metadata`.

>>> from graphmem import Memory
>>> from graphmem.integrations.langchain import GraphmemRetriever
>>> retriever = GraphmemRetriever(Memory("sqlite:///demo.db"), k=3)        # doctest: +SKIP
>>> docs = retriever.invoke("Where was the author of Emma born?")          # doctest: +SKIP
>>> docs[0].metadata["score"], docs[0].metadata["facts"][0]["predicate"]   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from graphmem.errors import ConfigError
from graphmem.integrations._common import (
    check_memory,
    hit_id,
    hit_metadata,
    hit_text,
    ranked_hits,
    search_async,
    search_sync,
)
from graphmem.models import SearchResult

try:
    from langchain_core.callbacks import (
        AsyncCallbackManagerForRetrieverRun,
        CallbackManagerForRetrieverRun,
    )
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ConfigError(
        "the LangChain retriever needs langchain-core: pip install 'graphmem[langchain]'"
    ) from exc

__all__ = ["GraphmemRetriever", "to_documents"]


def to_documents(result: SearchResult, k: int | None = None) -> list[Document]:
    """LangChain documents for a graphmem result: passages and episodes, best first (at most
    ``k``, all when ``None``)."""
    return [
        Document(
            id=hit_id(hit), page_content=hit_text(hit), metadata=hit_metadata(hit, rank, result)
        )
        for rank, hit in enumerate(ranked_hits(result, k), start=1)
    ]


class GraphmemRetriever(BaseRetriever):
    """Retrieve passages and episodes from a graphmem ``Memory``/``AsyncMemory`` or
    ``Client``/``AsyncClient``.

    ``k``: documents per question (passages and episodes together); ``namespace``: the namespace
    searched (the memory's own when ``None``). Sync calls use the sync API; async calls await an
    async memory or client, and run a sync one on a worker thread so the event loop never blocks.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memory: Any = Field(description="a graphmem Memory, AsyncMemory, Client or AsyncClient")
    k: int = Field(default=5, ge=1, le=1000)
    namespace: str | None = None

    def __init__(self, memory: Any = None, /, **kwargs: Any) -> None:
        if memory is not None:
            kwargs["memory"] = memory
        if "memory" not in kwargs:
            raise ConfigError(
                "GraphmemRetriever needs a memory: GraphmemRetriever(Memory(...), k=5)"
            )
        check_memory(kwargs["memory"])
        super().__init__(**kwargs)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return to_documents(search_sync(self.memory, query, self.k, self.namespace), self.k)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        found = await search_async(self.memory, query, self.k, self.namespace)
        return to_documents(found, self.k)
