"""In-memory vector index for one (namespace, node kind): exact cosine, HNSW past a size.

Rows are L2-normalized float32 in a growing buffer (capacity doubles, so appending is amortized
O(1) and a search never copies the matrix). Up to ``exact_limit`` rows a search is one matrix
product; above it a faiss HNSW inner-product index answers instead, so entity resolution's kNN
over a large namespace stays sub-linear. The index only grows: stores rebuild it after deletes.

>>> import numpy as np
>>> index = VectorIndex(2)
>>> index.append(["a", "b"], np.array([[1, 0], [0, 1]], dtype=np.float32))
>>> [(i, round(s, 3)) for i, s in index.search(np.array([[1, 0.1]], dtype=np.float32), 1)[0]]
[('a', 0.995)]
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from graphmem.store.threads import single_blas_thread

Matrix = npt.NDArray[np.float32]

#: above this many rows, search uses an HNSW index instead of the exact matrix product
EXACT_LIMIT = 50_000


def normalize(rows: npt.ArrayLike) -> Matrix:
    """L2-normalized float32 copy of ``rows`` (2-D); zero rows stay zero."""
    arr = np.array(rows, dtype=np.float32, ndmin=2)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    arr /= norms
    return arr


class VectorIndex:
    """Append-only cosine index of node ids (thread-safe)."""

    def __init__(self, dim: int, *, exact_limit: int = EXACT_LIMIT) -> None:
        self.dim = dim
        self.exact_limit = exact_limit
        self.ids: list[str] = []
        #: embedding keys of nodes that had no stored vector when added (filled by a rebuild)
        self.missing_keys: set[str] = set()
        self._buf: Matrix = np.zeros((0, dim), dtype=np.float32)
        self._n = 0
        self._hnsw: Any = None
        self._hnsw_n = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._n

    def append(self, ids: Sequence[str], rows: npt.ArrayLike) -> None:
        """Add ``ids`` with their vectors (normalized here)."""
        if not ids:
            return
        mat = normalize(rows)
        if mat.shape != (len(ids), self.dim):
            raise ValueError(f"expected {len(ids)} vectors of dim {self.dim}, got {mat.shape}")
        with self._lock:
            need = self._n + len(ids)
            if need > self._buf.shape[0]:
                grown = np.zeros((max(need, 2 * self._buf.shape[0], 64), self.dim), np.float32)
                grown[: self._n] = self._buf[: self._n]
                # Searches in flight keep the old buffer; it is never written again.
                self._buf = grown
            self._buf[self._n : need] = mat
            self.ids.extend(ids)
            self._n = need

    def search(self, queries: npt.ArrayLike, k: int) -> list[list[tuple[str, float]]]:
        """The ``k`` best (id, cosine) for each query row, best first."""
        q = normalize(queries)
        if q.shape[1] != self.dim:
            raise ValueError(f"query vectors have dim {q.shape[1]}, the index has {self.dim}")
        with self._lock:
            n, buf, ids = self._n, self._buf, self.ids
            use_hnsw = n > self.exact_limit
            if use_hnsw:
                return self._search_hnsw(q, min(k, n))
        if n == 0 or k <= 0:
            return [[] for _ in range(q.shape[0])]
        with single_blas_thread():
            scores = q @ buf[:n].T
        k = min(k, n)
        out: list[list[tuple[str, float]]] = []
        for row in scores:
            top = np.argpartition(-row, k - 1)[:k] if k < n else np.arange(n)
            # Stable order: by score, then by insertion order.
            order = top[np.lexsort((top, -row[top]))]
            out.append([(ids[i], float(row[i])) for i in order])
        return out

    def _search_hnsw(self, q: Matrix, k: int) -> list[list[tuple[str, float]]]:
        # Called with the lock held: faiss indexes are not safe to grow while searched.
        import faiss

        if self._hnsw is None:
            # M=16, efConstruction=40: recall@10 ~0.99 on clustered 384-d embeddings, and a
            # build about 3x faster than M=32 (the build runs once per process, on first use).
            self._hnsw = faiss.IndexHNSWFlat(self.dim, 16, faiss.METRIC_INNER_PRODUCT)
            self._hnsw.hnsw.efConstruction = 40
            self._hnsw_n = 0
        if self._hnsw_n < self._n:
            self._hnsw.add(np.ascontiguousarray(self._buf[self._hnsw_n : self._n]))
            self._hnsw_n = self._n
        if k <= 0:
            return [[] for _ in range(q.shape[0])]
        self._hnsw.hnsw.efSearch = max(64, 2 * k)
        scores, labels = self._hnsw.search(np.ascontiguousarray(q), k)
        return [
            [(self.ids[int(i)], float(s)) for s, i in zip(srow, lrow, strict=True) if i >= 0]
            for srow, lrow in zip(scores, labels, strict=True)
        ]
