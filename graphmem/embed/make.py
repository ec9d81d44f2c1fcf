"""An embedder from its name (what ``Memory(embedder=...)`` and the CLI accept)."""

from __future__ import annotations

from graphmem.embed.base import Embedder
from graphmem.errors import ConfigError


def make_embedder(spec: Embedder | str) -> Embedder:
    """``"local"`` (the bundled MiniLM model) or an :class:`Embedder` instance."""
    if not isinstance(spec, str):
        return spec
    if spec == "local":
        from graphmem.embed.local import LocalEmbedder

        return LocalEmbedder()
    raise ConfigError(f"unknown embedder {spec!r}: use 'local' or pass an Embedder instance")
