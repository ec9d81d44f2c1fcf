"""The data of an explanation: the subgraph behind an answer, as plain pydantic models.

Its own module so the renderers (:mod:`graphmem.viz.html`, :mod:`graphmem.viz.png`) import the
data they draw without importing :mod:`graphmem.viz.explain`, which imports them.

>>> Subgraph(question="Why?", mode="dense", result=SearchResult(question="Why?")).graph_data()
{'question': 'Why?', 'mode': 'dense', 'nodes': [], 'edges': []}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from graphmem.models import SearchResult

__all__ = ["EdgeKind", "GraphEdge", "GraphNode", "NodeKind", "Subgraph"]

NodeKind = Literal["entity", "passage"]
EdgeKind = Literal["fact", "mentions", "synonym"]


class GraphNode(BaseModel):
    """A node of the explanation: an entity or an answer passage."""

    id: str
    kind: NodeKind
    label: str
    #: personalized PageRank score (0 when the walk never reached it)
    score: float = 0.0
    #: seed weight the walk started from (0 for a node that is not a seed)
    seed: float = 0.0
    #: 1-based rank of an answer passage
    rank: int | None = None
    text: str | None = None
    source: str | None = None
    dense_score: float | None = None
    #: on a shortest path from a seed to an answer passage
    on_path: bool = False


class GraphEdge(BaseModel):
    """An edge: a fact between two entities, a passage mentioning an entity, or a synonym link."""

    source: str
    target: str
    kind: EdgeKind
    label: str = ""
    fact_id: str | None = None
    text: str | None = None
    score: float = 0.0
    on_path: bool = False


class Subgraph(BaseModel):
    """A search result plus the subgraph behind it: what the renderers draw."""

    question: str
    mode: str
    result: SearchResult
    nodes: list[GraphNode] = Field(default_factory=list)
    edges: list[GraphEdge] = Field(default_factory=list)
    #: entity id -> seed weight (only entities; empty when the ranking fell back to dense)
    seeds: dict[str, float] = Field(default_factory=dict)
    timings_ms: dict[str, float] = Field(default_factory=dict)

    def graph_data(self) -> dict[str, Any]:
        """Nodes and edges as JSON-ready dicts (what the HTML page and the explorer draw)."""
        return {
            "question": self.question,
            "mode": self.mode,
            "nodes": [n.model_dump() for n in self.nodes],
            "edges": [e.model_dump() for e in self.edges],
        }
