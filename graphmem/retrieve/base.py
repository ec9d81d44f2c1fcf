"""The contract every retriever keeps: one :class:`Request` in, one :class:`Retrieval` out.

A retriever (passages: :mod:`~graphmem.retrieve.passages`, episodes:
:mod:`~graphmem.retrieve.episodes`, hyperedges: :mod:`~graphmem.retrieve.hyperedges`) ranks the node ids
of its kind for a question already validated and embedded by :mod:`graphmem.retrieve.search`;
turning ids into models is :mod:`graphmem.retrieve.results`' job.

>>> found = Retrieval([("p:1", 0.1)], {"p:1": 0.9}, [], {}, {"e:a": 0.2, "e:b": 0.3, "p:1": 0.1})
>>> found.top("e:", 1)
[('e:b', 0.3)]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from graphmem.retrieve.scores import NodeScores
from graphmem.store.base import Store, Vector

Between = tuple[datetime | None, datetime | None]


@dataclass(frozen=True)
class Request:
    """One validated question, embedded once: what every retriever is called with."""

    store: Store
    namespace: str
    question: str
    #: the question's embedding, shape ``(dim,)``
    vector: Vector
    k: int
    as_of: datetime | None = None
    between: Between | None = None
    #: the units the caller asked for (see :data:`graphmem.retrieve.search.UNITS`)
    units: frozenset[str] = frozenset()
    #: PageRank scores the walks run before gave (the hyperedge retriever fuses them)
    walked: Mapping[str, float] = field(default_factory=dict)
    #: waits for the names a namer found in the question, when the search core started it
    #: while the question was embedded (else a retriever that wants names asks its own namer)
    names: Callable[[], list[str]] | None = None
    #: waits for the BM25 hits of the question, when the search core started them the same way
    lexical: Callable[[], list[tuple[str, float]]] | None = None


@dataclass
class Retrieval:
    """What one retriever found, by id; formatting into models is
    :mod:`graphmem.retrieve.results`' job."""

    #: the retriever's units (passages, episodes or hyperedges), best first
    hits: list[tuple[str, float]]
    #: dense similarity of the candidates, by id
    dense: dict[str, float]
    #: the facts that matched the question, best first
    facts: list[tuple[str, float]]
    #: seed weight of each node the walk started from
    seeds: dict[str, float]
    #: PageRank score of every node the walk reached (read the best of a kind with ``top``)
    node_scores: Mapping[str, float] = field(default_factory=dict)
    mode: str = "graph"

    def top(self, prefix: str, n: int) -> list[tuple[str, float]]:
        """The ``n`` best-scored nodes whose id starts with ``prefix`` (``ids.ENTITY``...)."""
        scores = self.node_scores
        if isinstance(scores, NodeScores):
            return scores.top(prefix, n)
        found = sorted(
            ((i, s) for i, s in scores.items() if i.startswith(prefix)), key=lambda t: -t[1]
        )
        return found[:n]


class Retriever(Protocol):
    """Ranks the units of one kind for a request."""

    def __call__(self, request: Request) -> Retrieval: ...
