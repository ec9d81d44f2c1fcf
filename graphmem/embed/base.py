"""The embedder protocol. Vectors are float32 and L2-normalized, so cosine is a dot product.

>>> import numpy as np
>>> class Ones:
...     name, dim = "ones", 2
...     def embed(self, texts, *, kind="passage"):
...         return np.ones((len(texts), 2), dtype=np.float32) / np.sqrt(2)
>>> isinstance(Ones(), Embedder)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
TextKind = Literal["passage", "query"]


@runtime_checkable
class Embedder(Protocol):
    #: identifies the model; part of the embedding cache key
    name: str
    dim: int

    def embed(self, texts: Sequence[str], *, kind: TextKind = "passage") -> Vectors:
        """Return one normalized row per text. ``kind="query"`` for questions."""
        ...


def normalize_rows(x: npt.NDArray[np.floating]) -> Vectors:
    """L2-normalize rows (zero rows stay zero)."""
    arr = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Vectors = (arr / norms).astype(np.float32, copy=False)
    return out
