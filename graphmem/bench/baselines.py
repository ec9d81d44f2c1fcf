"""The two baselines every benchmark run reports next to graphmem.

- **dense**: the question embedded with the same embedder graphmem uses, passages ranked by cosine
  through the same store's vector index (``store.vector_search``), so the comparison is on the very
  same vectors.
- **BM25** (``bm25s``): lower-cased word tokens, English stopwords (bundled with bm25s) and, when
  ``PyStemmer`` is installed, the Snowball English stemmer. Nothing is downloaded.

>>> bm25 = BM25Index(["Paris is the capital of France.", "Berlin is in Germany."])
>>> [i for i, _ in bm25.top_k("capital of France", 2)]
[0]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from graphmem.embed.base import Embedder
from graphmem.store.base import NodeKind, Store

Hits = list[tuple[str, float]]


def dense_search(
    store: Store,
    embedder: Embedder,
    namespace: str,
    questions: Sequence[str],
    k: int,
    *,
    kind: NodeKind = "passage",
    batch_size: int = 256,
) -> list[Hits]:
    """For each question, the ``k`` nearest ``kind`` nodes by cosine: ``(node id, score)``, best first.

    >>> dense_search(mem.store, mem.embedder, "default", ["Who wrote Hamlet?"], 5)  # doctest: +SKIP
    [[('p:…', 0.71), ...]]
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    out: list[Hits] = []
    for start in range(0, len(questions), batch_size):
        chunk = list(questions[start : start + batch_size])
        vectors = embedder.embed(chunk, kind="query")
        out.extend(store.vector_search(namespace, kind, vectors, k))
    return out


def load_stemmer(mode: Literal["auto", "none"] = "auto") -> tuple[Any, str]:
    """The English stemmer to use (for ``bm25s.tokenize``) and its name.

    PyStemmer's Snowball stemmer when installed (bm25s recommends it; it has ``stemWords``), else
    none: tokens are then only lower-cased and stopword-filtered.
    """
    if mode == "none":
        return None, "none"
    try:
        import Stemmer
    except ImportError:
        return None, "none"
    return Stemmer.Stemmer("english"), "snowball"


class BM25Index:
    """A BM25 index (bm25s, Lucene variant, k1=1.5, b=0.75) over a list of texts.

    ``top_k`` returns ``(text index, score)`` pairs, best first; texts that share no term with the
    query (score 0) are not returned, and ties keep corpus order, so results are deterministic.
    """

    def __init__(
        self,
        texts: Sequence[str],
        *,
        stemmer: Literal["auto", "none"] = "auto",
        k1: float = 1.5,
        b: float = 0.75,
    ) -> None:
        import bm25s

        # bm25s sets its own logger to DEBUG at import, which prints on every index build
        bm25s_log = logging.getLogger("bm25s")
        if bm25s_log.level == logging.DEBUG:
            bm25s_log.setLevel(logging.WARNING)
        if not texts:
            raise ValueError("BM25 needs at least one text")
        self._bm25s: Any = bm25s
        self._stem, self.stemmer_name = load_stemmer(stemmer)
        self.size = len(texts)
        self._retriever: Any = None
        tokens = self.tokenize(texts)
        # a corpus without a single indexable word (bm25s cannot index it) matches nothing
        if any(tokens):
            self._retriever = bm25s.BM25(k1=k1, b=b)
            self._retriever.index(tokens, show_progress=False)

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        tokens: list[list[str]] = self._bm25s.tokenize(
            list(texts),
            lower=True,
            stopwords="en",
            stemmer=self._stem,
            return_ids=False,
            show_progress=False,
        )
        return tokens

    def scores(self, query: str) -> np.ndarray[Any, np.dtype[np.float32]]:
        """BM25 score of every text for ``query`` (zeros when no query term is indexed)."""
        if self._retriever is None:
            return np.zeros(self.size, dtype=np.float32)
        tokens = self.tokenize([query])[0]
        known = [t for t in tokens if t in self._retriever.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def top_k(self, query: str, k: int) -> list[tuple[int, float]]:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        scores = self.scores(query)
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > k:
            # partial selection first: the corpus may be large, k is small
            keep = np.argpartition(-scores[candidates], k - 1)[:k]
            threshold = scores[candidates[keep]].min()
            candidates = np.flatnonzero(scores >= threshold)
        order = np.lexsort((candidates, -scores[candidates]))[:k]
        return [(int(candidates[i]), float(scores[candidates[i]])) for i in order]

    def search(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        return [self.top_k(q, k) for q in queries]
