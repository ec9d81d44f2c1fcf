"""Embedders: ``local`` (the bundled offline model; questions through ONNX Runtime, no torch),
``openai`` (/v1/embeddings)."""

from graphmem.embed.base import Embedder, normalize_rows

__all__ = ["Embedder", "normalize_rows"]
