"""Embedders: ``local`` (sentence-transformers, offline model), ``openai`` (/v1/embeddings)."""

from graphmem.embed.base import Embedder, normalize_rows

__all__ = ["Embedder", "normalize_rows"]
