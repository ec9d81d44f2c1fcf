"""The baselines on a tiny corpus: real bm25s, and dense over a real SQLite store and MiniLM."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from graphmem.bench.baselines import BM25Index, dense_search, load_stemmer

CORPUS = [
    "The Eiffel Tower is a wrought-iron lattice tower in Paris, France.",
    "Bananas are an elongated, edible fruit that is yellow when ripe.",
    "The Amazon River flows through Brazil, Peru and Colombia.",
    "Marie Curie was running experiments on radioactivity in Paris.",
    "A tower of Hanoi puzzle has three rods and several disks.",
]


# ------------------------------------------------------------------------------ BM25


def test_bm25_ranks_by_term_evidence() -> None:
    index = BM25Index(CORPUS)
    assert [i for i, _ in index.top_k("river in Brazil", 5)] == [2]
    top = index.top_k("tower in Paris", 5)
    # doc 0 has both terms; 3 ("Paris") and 4 ("tower") one each
    assert top[0][0] == 0 and {i for i, _ in top[1:]} == {3, 4}
    scores = [s for _, s in top]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


def test_bm25_no_match_and_stopword_only_queries_return_nothing() -> None:
    index = BM25Index(CORPUS)
    assert index.top_k("quantum chromodynamics", 3) == []
    assert index.top_k("the of and is", 3) == []
    assert index.top_k("", 3) == []


def test_bm25_corpus_without_indexable_words_matches_nothing() -> None:
    index = BM25Index(["a b c", "the of", "?!"])
    assert index.top_k("a b c the", 3) == []


def test_bm25_k_larger_than_corpus_and_bad_k() -> None:
    index = BM25Index(CORPUS)
    assert len(index.top_k("Paris tower fruit river rods", 50)) == 5
    with pytest.raises(ValueError):
        index.top_k("Paris", 0)
    with pytest.raises(ValueError):
        BM25Index([])


def test_bm25_ties_keep_corpus_order() -> None:
    index = BM25Index(["alpha beta", "gamma delta", "alpha beta", "alpha beta"])
    top = index.top_k("alpha", 2)
    assert [i for i, _ in top] == [0, 2] and top[0][1] == top[1][1]


def test_bm25_agrees_with_the_bm25_formula() -> None:
    # Lucene BM25, k1=1.5, b=0.75: idf = ln(1 + (N - df + 0.5) / (df + 0.5))
    docs = ["cat dog", "cat cat bird", "fish"]
    index = BM25Index(docs, stemmer="none")
    n, avgdl, k1, b = 3, (2 + 3 + 1) / 3, 1.5, 0.75
    idf = np.log(1 + (n - 2 + 0.5) / (2 + 0.5))

    def term(tf: int, dl: int) -> float:
        return float(idf * tf / (tf + k1 * (1 - b + b * dl / avgdl)))

    got = dict(index.top_k("cat", 3))
    assert got[0] == pytest.approx(term(1, 2), rel=1e-5)
    assert got[1] == pytest.approx(term(2, 3), rel=1e-5)
    assert 2 not in got


def test_stemmer_joins_word_forms_when_pystemmer_is_installed() -> None:
    plain = BM25Index(CORPUS, stemmer="none")
    assert plain.stemmer_name == "none"
    assert plain.top_k("who runs experiments", 5) == plain.top_k("experiments", 5)
    stem, name = load_stemmer()
    if stem is None:
        assert name == "none"
        return
    stemmed = BM25Index(CORPUS)
    assert stemmed.stemmer_name == "snowball"
    # "runs" and "running" meet only through the stemmer
    assert [i for i, _ in stemmed.top_k("runs", 5)] == [3]
    assert plain.top_k("runs", 5) == []


# ------------------------------------------------------------------------------ dense


@pytest.fixture(scope="module")
def memory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from graphmem.memory import Memory

    db: Path = tmp_path_factory.mktemp("dense") / "dense.db"
    mem = Memory(f"sqlite:///{db}", extractor="none", namespace="bench-test")
    mem.add_many([{"text": t, "source": f"d{i}"} for i, t in enumerate(CORPUS)])
    yield mem
    mem.close()


def test_dense_search_ranks_by_cosine_of_the_same_embeddings(memory: object) -> None:
    from graphmem.ids import passage_id
    from graphmem.memory import Memory

    assert isinstance(memory, Memory)
    questions = ["Which city has the Eiffel Tower?", "What colour is a ripe banana?"]
    hits = dense_search(memory.store, memory.embedder, "bench-test", questions, k=3)
    pid = {passage_id("bench-test", t): i for i, t in enumerate(CORPUS)}
    assert [pid[h[0][0]] for h in hits] == [0, 1]

    # the scores are the cosines of the embedder's own vectors: the baseline is on the same ones
    p_vecs = memory.embedder.embed(CORPUS, kind="passage")
    q_vecs = memory.embedder.embed(questions, kind="query")
    cos = q_vecs @ p_vecs.T
    for row, ranked in zip(cos, hits, strict=True):
        expected = np.argsort(-row)[:3]
        assert [pid[p] for p, _ in ranked] == list(expected)
        assert [s for _, s in ranked] == pytest.approx(row[expected], abs=1e-4)


def test_dense_search_batches_and_bounds(memory: object) -> None:
    from graphmem.memory import Memory

    assert isinstance(memory, Memory)
    questions = [f"question about {w}" for w in ("towers", "fruit", "rivers", "science", "puzzles")]
    one_batch = dense_search(memory.store, memory.embedder, "bench-test", questions, k=2)
    small_batches = dense_search(
        memory.store, memory.embedder, "bench-test", questions, k=2, batch_size=2
    )
    assert [[p for p, _ in h] for h in one_batch] == [[p for p, _ in h] for h in small_batches]
    assert all(len(h) == 2 for h in one_batch)
    with pytest.raises(ValueError):
        dense_search(memory.store, memory.embedder, "bench-test", questions, k=0)
