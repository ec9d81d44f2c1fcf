"""A LlamaIndex retriever over graphmem (``pip install 'graphmem[llamaindex]'``).

Each retrieved passage or episode becomes a ``NodeWithScore`` (one list by relevance): a ``TextNode``
whose ``id_`` is the passage or episode id, with graphmem's relevance as the node score and the same
metadata as the LangChain retriever (``kind``, scores, rank, source, facts with their validity,
entity path; an episode's speaker, time and session). Only a passage's ``source``, ``title`` and
``path`` and an episode's ``speaker``, ``time`` and ``session`` are shown to the LLM or embedded;
the rest stays in the metadata for the application.

>>> from graphmem import Memory
>>> from graphmem.integrations.llamaindex import GraphmemLlamaRetriever
>>> retriever = GraphmemLlamaRetriever(Memory("sqlite:///demo.db"), k=3)   # doctest: +SKIP
>>> nodes = retriever.retrieve("Where was the author of Emma born?")       # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

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
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ConfigError(
        "the LlamaIndex retriever needs llama-index-core: pip install 'graphmem[llamaindex]'"
    ) from exc

__all__ = ["GraphmemLlamaRetriever", "to_nodes"]

#: metadata keys an LLM or an embedding model sees in the node's content, by kind of hit
_SHOWN = {"passage": ("source", "title", "path"), "episode": ("speaker", "time", "session")}


def to_nodes(result: SearchResult, k: int | None = None) -> list[NodeWithScore]:
    """LlamaIndex nodes for a graphmem result: passages and episodes, best first (at most ``k``,
    all when ``None``)."""
    out: list[NodeWithScore] = []
    for rank, hit in enumerate(ranked_hits(result, k), start=1):
        metadata = hit_metadata(hit, rank, result)
        hidden = [key for key in metadata if key not in _SHOWN[metadata["kind"]]]
        node = TextNode(
            id_=hit_id(hit),
            text=hit_text(hit),
            metadata=metadata,
            excluded_llm_metadata_keys=hidden,
            excluded_embed_metadata_keys=hidden,
        )
        out.append(NodeWithScore(node=node, score=hit.relevance))
    return out


class GraphmemLlamaRetriever(BaseRetriever):
    """Retrieve passages and episodes from a graphmem ``Memory``/``AsyncMemory`` or
    ``Client``/``AsyncClient`` (``k`` of them together per question).

    ``retrieve`` uses the sync API; ``aretrieve`` awaits an async memory or client and runs a
    sync one on a worker thread.
    """

    def __init__(
        self, memory: Any, *, k: int = 5, namespace: str | None = None, **kwargs: Any
    ) -> None:
        if not 1 <= k <= 1000:
            raise ConfigError(f"k must be between 1 and 1000, got {k}")
        self.memory = check_memory(memory)
        self.k = k
        self.namespace = namespace
        super().__init__(**kwargs)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        found = search_sync(self.memory, query_bundle.query_str, self.k, self.namespace)
        return to_nodes(found, self.k)

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        found = await search_async(self.memory, query_bundle.query_str, self.k, self.namespace)
        return to_nodes(found, self.k)
