"""Score helpers shared by the retrievers: PageRank scores by node id, and one min-max scaler.

:class:`NodeScores` reads PageRank scores without building a dict of every node the walk reached.

The exact engine scores every node of the component (tens of thousands on a real corpus); a
search needs the best few passages, entities and units. :class:`NodeScores` keeps the dense
vector and answers ``top("p:", k)`` with numpy over the view's index of that kind, and single
lookups by id; it is still a read-only ``Mapping[str, float]`` for code that wants to iterate.

>>> from graphmem.store.graph import GraphProjection
>>> g = GraphProjection(); g.add_edges([("e:a", "p:1", 1.0), ("e:a", "p:2", 2.0)]); v = g.view()
>>> s = NodeScores(v, vector=np.array([0.5, 0.2, 0.3]))
>>> s.top("p:", 1), s["e:a"], len(s)
([('p:2', 0.3)], 0.5, 3)
>>> minmax(np.array([2.0, 4.0, 3.0])).tolist(), minmax(np.array([0.3, 0.3])).tolist()
([0.0, 1.0, 0.5], [1.0, 1.0])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Literal

import numpy as np
import numpy.typing as npt

from graphmem.store.graph import GraphView

FloatVector = npt.NDArray[np.float64]
#: a spread below this is no spread: the input counts as constant
MIN_SPREAD = 1e-12


def minmax(x: npt.ArrayLike, *, constant: Literal["positive", "one"] = "positive") -> FloatVector:
    """``(x - min) / (max - min)``, as float64; empty stays empty.

    Constant input (``max - min < MIN_SPREAD``) has no spread to scale. ``constant="positive"``
    (the default) maps it to all ones when its values are positive and all zeros otherwise, so a
    part of a fused score that is uniformly zero adds nothing; ``constant="one"`` maps it to all
    ones whatever the sign (HippoRAG's seed weights: a lone fact hit still seeds fully).
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.size == 0:
        return arr
    lo, hi = float(arr.min()), float(arr.max())
    if hi - lo < MIN_SPREAD:
        full = constant == "one" or hi > 0
        return np.ones_like(arr) if full else np.zeros_like(arr)
    out: FloatVector = (arr - lo) / (hi - lo)
    return out


class NodeScores(Mapping[str, float]):
    """Positive scores of a graph's nodes, from a dense ``vector`` (exact) or a ``sparse`` dict."""

    def __init__(
        self,
        graph: GraphView,
        *,
        vector: FloatVector | None = None,
        sparse: Mapping[int, float] | None = None,
    ) -> None:
        if (vector is None) == (sparse is None):
            raise ValueError("NodeScores needs exactly one of vector= or sparse=")
        self.graph = graph
        self.vector = vector
        self._sparse: dict[str, float] | None = (
            {graph.node_id(i): float(s) for i, s in sparse.items() if s > 0}
            if sparse is not None
            else None
        )
        self._len: int | None = None
        self._groups: dict[str, tuple[list[str], FloatVector]] | None = None

    def __getitem__(self, node_id: str) -> float:
        if self._sparse is not None:
            return self._sparse[node_id]
        assert self.vector is not None
        i = self.graph.index_of(node_id)
        if i is None or i >= len(self.vector) or self.vector[i] <= 0:
            raise KeyError(node_id)
        return float(self.vector[i])

    def __iter__(self) -> Iterator[str]:
        if self._sparse is not None:
            return iter(self._sparse)
        assert self.vector is not None
        return (self.graph.node_id(int(i)) for i in np.flatnonzero(self.vector > 0))

    def __len__(self) -> int:
        if self._sparse is not None:
            return len(self._sparse)
        if self._len is None:
            assert self.vector is not None
            self._len = int(np.count_nonzero(self.vector > 0))
        return self._len

    def _by_prefix(self, prefix: str) -> tuple[list[str], FloatVector]:
        """The scored ids of one prefix and their scores (grouped once, on first use)."""
        if self._groups is None:
            groups: dict[str, tuple[list[str], list[float]]] = {}
            for nid, score in self.items():
                head = nid.split(":", 1)[0] + ":"
                ids, vals = groups.setdefault(head, ([], []))
                ids.append(nid)
                vals.append(score)
            self._groups = {h: (ids, np.asarray(vals)) for h, (ids, vals) in groups.items()}
        if prefix in self._groups:
            return self._groups[prefix]
        ids = [nid for nid in self if nid.startswith(prefix)]
        return ids, np.asarray([self[nid] for nid in ids], dtype=np.float64)

    def top(self, prefix: str, n: int) -> list[tuple[str, float]]:
        """The ``n`` best-scored nodes whose id starts with ``prefix``, best first (ties: by index)."""
        if n <= 0:
            return []
        indices = getattr(self.graph, "prefix_indices", None)
        if self._sparse is not None or indices is None:
            ids, vals = self._by_prefix(prefix)
            order = _best(vals, np.arange(len(ids)), n)
            return [(ids[j], float(vals[j])) for j in order]
        assert self.vector is not None
        idx: npt.NDArray[np.int64] = indices(prefix)
        vals = self.vector[idx]
        keep = vals > 0
        idx, vals = idx[keep], vals[keep]
        order = _best(vals, idx, n)
        return [(self.graph.node_id(int(idx[j])), float(vals[j])) for j in order]


def _best(vals: FloatVector, ties: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.int64]:
    """Positions of the ``n`` largest ``vals``, best first, equal values by ``ties`` ascending."""
    part = np.argpartition(-vals, n - 1)[:n] if len(vals) > n else np.arange(len(vals))
    return part[np.lexsort((ties[part], -vals[part]))]
