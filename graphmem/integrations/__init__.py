"""RAG plug-ins: a LangChain retriever and a LlamaIndex retriever over Memory or the client SDK.

Install the framework you use (``pip install 'graphmem[langchain]'`` or ``'graphmem[llamaindex]'``);
importing :mod:`graphmem` never needs either.

>>> from graphmem.integrations.langchain import GraphmemRetriever          # doctest: +SKIP
>>> from graphmem.integrations.llamaindex import GraphmemLlamaRetriever    # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__all__ = ["GraphmemLlamaRetriever", "GraphmemRetriever"]

_WHERE = {
    "GraphmemRetriever": "graphmem.integrations.langchain",
    "GraphmemLlamaRetriever": "graphmem.integrations.llamaindex",
}


def __getattr__(name: str) -> Any:
    # Lazy: each framework is imported only when its retriever is asked for.
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'graphmem.integrations' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
