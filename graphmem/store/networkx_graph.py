"""One namespace as a networkx ``MultiDiGraph``, and as a GraphML file.

The graph holds every node of the namespace (passages, entities, facts, events, hyperedges and
episodes; ``kind`` says which, a hyperedge's own kind is ``hyperedge_kind``, and ``state`` is its
lifecycle state: :mod:`graphmem.store.states`) with its properties, every stored edge (``type``, ``weight`` and
its properties; keyed by type), and one ``RELATES`` edge per fact from its subject to its object
(keyed by the fact's id), since a fact is both a node and a relation in the stores. So the graph
has ``Stats`` node counts summed, and ``stats.edges + stats.facts`` edges.

Attributes are scalars GraphML can hold: strings, numbers and booleans. Times are ISO text,
lists and dicts (``metadata``, ``members``, ``aliases``) JSON text, ``None`` left out.
Embeddings are not node properties (stores cache them by text hash), so none are included.

>>> from graphmem.models import Entity
>>> from graphmem.store import open_store
>>> from graphmem.store.base import WriteBatch
>>> store = open_store("sqlite:///:memory:")
>>> _ = store.write(WriteBatch("demo", entities=[Entity(id="e:1", name="Ada", normalized="ada",
...                                                 namespace="demo")]))
>>> g = to_networkx(store, "demo")
>>> g.nodes["e:1"]["kind"], g.nodes["e:1"]["name"]
('entity', 'Ada')
>>> store.close()
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pydantic import BaseModel

from graphmem.models import Fact
from graphmem.store.base import NODE_KINDS, Store, id_pages, node_getter
from graphmem.store.states import state_of

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["scalar_attrs", "to_networkx", "write_graphml"]

_PAGE = 500


def scalar_attrs(data: Mapping[str, Any]) -> dict[str, str | int | float | bool]:
    """``data`` with every value a GraphML scalar (see the module docstring); ``None`` dropped."""
    out: dict[str, str | int | float | bool] = {}
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, (str, bool, int, float)):
            out[key] = value
        elif isinstance(value, (datetime, date)):
            out[key] = value.isoformat()
        else:
            out[key] = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return out


def to_networkx(store: Store, namespace: str) -> nx.MultiDiGraph:
    """``namespace`` of ``store`` as a ``networkx.MultiDiGraph`` (see the module docstring)."""
    import networkx as nx

    graph = nx.MultiDiGraph(namespace=namespace)
    facts: list[Fact] = []
    for kind in NODE_KINDS:
        get = node_getter(store, kind)
        assert get is not None  # every NODE_KINDS kind has one
        for page in id_pages(store, namespace, kind, _PAGE):
            found = get(namespace, page)
            recorded = store.lifecycle_states(namespace, page)
            for node_id in page:
                node: BaseModel | None = found.get(node_id)
                if node is None:  # deleted since it was listed
                    continue
                attrs = scalar_attrs(node.model_dump(mode="json", exclude={"id"}))
                if "kind" in attrs:  # a hyperedge's own kind ("note"...) beside the node kind
                    attrs[f"{kind}_kind"] = attrs.pop("kind")
                state = state_of(node, recorded.get(node_id))
                graph.add_node(node_id, kind=kind, state=state, **attrs)
                if isinstance(node, Fact):
                    facts.append(node)
    for kind in NODE_KINDS:
        for page in id_pages(store, namespace, kind, _PAGE):
            mine = set(page)
            # each stored edge once: from the page that holds its source
            for edge in store.edges_of(namespace, page):
                if edge.src in mine:
                    attrs = {**edge.props, "type": edge.type, "weight": edge.weight}
                    graph.add_edge(edge.src, edge.dst, key=edge.type, **scalar_attrs(attrs))
    for fact in facts:
        graph.add_edge(
            fact.subject,
            fact.object,
            key=fact.id,
            type="RELATES",
            fact=fact.id,
            predicate=fact.predicate,
            weight=fact.confidence,
        )
    return graph


def write_graphml(graph: nx.Graph, out: str | os.PathLike[str] | IO[bytes]) -> dict[str, int]:
    """Write ``graph`` (from :func:`to_networkx`) as GraphML to a binary stream or a path (a
    path atomically: a temporary file renamed over it); return ``{"nodes": …, "edges": …}``."""
    import networkx as nx

    if not isinstance(out, (str, os.PathLike)):
        nx.write_graphml(graph, out)
    else:
        target = Path(out)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        try:
            nx.write_graphml(graph, tmp)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges()}
