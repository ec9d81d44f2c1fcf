"""Integration fixtures: one real embedding model per test session (loading it costs seconds)."""

from __future__ import annotations

import pytest

from graphmem.embed.local import LocalEmbedder


@pytest.fixture(scope="session")
def embedder() -> LocalEmbedder:
    """The bundled MiniLM model, loaded once, offline."""
    return LocalEmbedder()
