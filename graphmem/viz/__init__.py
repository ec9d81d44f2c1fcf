"""Draw the subgraph behind an answer: a self-contained HTML page or a static PNG.

>>> from graphmem.viz import explain                          # doctest: +SKIP
>>> explain(mem, "Where was the author of Emma born?").to_html("answer.html")  # doctest: +SKIP
"""

from __future__ import annotations

from graphmem.viz.explain import Explanation, GraphEdge, GraphNode, explain, from_result

__all__ = ["Explanation", "GraphEdge", "GraphNode", "explain", "from_result"]
