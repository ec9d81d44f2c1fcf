"""Entity resolution: normalization merges, close names get synonym edges, cost stays per batch."""

from __future__ import annotations

import numpy as np

from graphmem.ids import entity_id, normalize_name
from graphmem.ingest.resolve import within_batch_synonyms


def test_names_that_normalize_alike_share_an_id() -> None:
    assert entity_id("ns", "The Beatles") == entity_id("ns", "  the beatles! ")
    assert entity_id("ns", "The Beatles") != entity_id("other", "The Beatles")
    assert normalize_name("Ｐａｒｉｓ") == "paris"  # NFKC folds full-width letters


def test_within_batch_pairs_respect_threshold_and_k() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(1, 16))
    close = base + 0.05 * rng.normal(size=(1, 16))
    far = rng.normal(size=(1, 16))
    vecs = np.vstack([base, close, far]).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    pairs = within_batch_synonyms(["a", "b", "c"], vecs, threshold=0.8, k=2)
    assert [(a, b) for a, b, _ in pairs] == [("a", "b")]
    assert pairs[0][2] > 0.8
    # k=1 with 'c' closest to nothing above threshold: still only (a, b), each pair once
    assert len(within_batch_synonyms(["a", "b", "c"], vecs, threshold=0.8, k=1)) == 1
    assert within_batch_synonyms(["a"], vecs[:1], threshold=0.8, k=5) == []
