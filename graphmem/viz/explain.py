"""The subgraph behind an answer: seed entities, PageRank scores, the facts on the paths, passages.

:func:`explain` runs the memory's search (:mod:`graphmem.retrieve.search`, the one ``search``
runs) and keeps what :class:`~graphmem.models.SearchResult` does not carry: the seed weights and
every node's PageRank score. :func:`from_result` builds the same picture from a result alone (for a
remote store reached through the client SDK).

>>> from graphmem import Memory                                 # doctest: +SKIP
>>> ex = explain(Memory("sqlite:///demo.db"), "Where was the author of Emma born?")  # doctest: +SKIP
>>> ex.to_html("answer.html"); ex.to_png("answer.png")          # doctest: +SKIP
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from graphmem.errors import InputError
from graphmem.ids import ENTITY, PASSAGE, is_kind, of_kind
from graphmem.models import Fact, FactHit, SearchResult
from graphmem.retrieve.search import Searcher
from graphmem.viz.html import render_html, render_iframe
from graphmem.viz.model import EdgeKind, GraphEdge, GraphNode, Subgraph
from graphmem.viz.png import render_png

__all__ = ["Explanation", "GraphEdge", "GraphNode", "explain", "from_result"]

#: at most this many entities besides the seeds and the answer passages' own (readability)
MAX_EXTRA_ENTITIES = 12
#: at most this many fact edges in the drawing
MAX_FACT_EDGES = 80


class Explanation(Subgraph):
    """What :func:`explain` returns: the result plus the subgraph behind it, as plain data."""

    def to_html(self, path: str | Path | None = None, *, title: str | None = None) -> str:
        """A self-contained HTML page (cytoscape.js inlined); written to ``path`` when given."""
        page = render_html(self, title=title)
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def to_png(self, path: str | Path | None = None, *, dpi: int = 110) -> bytes:
        """A static PNG drawing (matplotlib); written to ``path`` when given."""
        data = render_png(self, dpi=dpi)
        if path is not None:
            Path(path).write_bytes(data)
        return data

    def _repr_html_(self) -> str:
        # Notebooks: the page in a sandboxed iframe, so its script and styles stay inside it.
        return render_iframe(self)

    def _repr_png_(self) -> bytes:
        return self.to_png()


# ------------------------------------------------------------------------------------------ build


def _fact_edge(hit: FactHit) -> GraphEdge:
    f = hit.fact
    return GraphEdge(
        source=f.subject,
        target=f.object,
        kind="fact",
        label=f.predicate,
        fact_id=f.id,
        text=f.text,
        score=hit.score,
    )


class _Builder:
    def __init__(self, result: SearchResult) -> None:
        self.result = result
        self.nodes: dict[str, GraphNode] = {}
        self.edges: dict[tuple[str, str, str], GraphEdge] = {}

    def entity(self, eid: str, name: str, score: float = 0.0, seed: float = 0.0) -> None:
        node = self.nodes.get(eid)
        if node is None:
            self.nodes[eid] = GraphNode(id=eid, kind="entity", label=name, score=score, seed=seed)
        else:
            node.score = max(node.score, score)
            node.seed = max(node.seed, seed)

    def edge(self, edge: GraphEdge) -> None:
        if edge.source == edge.target:
            return
        key = (edge.kind, edge.fact_id or edge.source, edge.target if edge.fact_id is None else "")
        old = self.edges.get(key)
        if old is None or edge.score > old.score:
            self.edges[key] = edge

    def passages(self) -> None:
        for rank, hit in enumerate(self.result.passages, start=1):
            p = hit.passage
            self.nodes[p.id] = GraphNode(
                id=p.id,
                kind="passage",
                label=f"#{rank} {p.title or p.source or p.id[:10]}",
                score=hit.score,
                rank=rank,
                text=p.text,
                source=p.source,
                dense_score=hit.dense_score,
            )
            for fh in hit.facts:
                self.entity(fh.fact.subject, fh.subject_name)
                self.entity(fh.fact.object, fh.object_name)
                self.edge(_fact_edge(fh))
                # The passage states the fact, so it mentions both ends.
                for eid in (fh.fact.subject, fh.fact.object):
                    self.edge(GraphEdge(source=p.id, target=eid, kind="mentions"))

    def matched_facts(self) -> None:
        for fh in self.result.facts:
            self.entity(fh.fact.subject, fh.subject_name)
            self.entity(fh.fact.object, fh.object_name)
            self.edge(_fact_edge(fh))

    def top_entities(self) -> None:
        for eh in self.result.entities:
            self.entity(eh.entity.id, eh.entity.name, score=eh.score)

    def mark_paths(self, seeds: Iterable[str]) -> None:
        """Mark the shortest paths (in this subgraph) from any seed to each answer passage."""
        adj: dict[str, list[tuple[str, GraphEdge]]] = {}
        for e in self.edges.values():
            adj.setdefault(e.source, []).append((e.target, e))
            adj.setdefault(e.target, []).append((e.source, e))
        start = [s for s in seeds if s in self.nodes]
        prev: dict[str, tuple[str, GraphEdge] | None] = {s: None for s in start}
        queue = deque(start)
        while queue:
            u = queue.popleft()
            for v, e in sorted(adj.get(u, []), key=lambda t: -t[1].score):
                if v not in prev:
                    prev[v] = (u, e)
                    queue.append(v)
        for node in list(self.nodes.values()):
            if node.kind != "passage" or node.id not in prev:
                continue
            cur: str | None = node.id
            while cur is not None:
                self.nodes[cur].on_path = True
                step = prev.get(cur)
                if step is None:
                    break
                step[1].on_path = True
                cur = step[0]

    def build(self, question: str, mode: str, seeds: dict[str, float]) -> Explanation:
        facts = [e for e in self.edges.values() if e.kind == "fact"]
        others = [e for e in self.edges.values() if e.kind != "fact"]
        if len(facts) > MAX_FACT_EDGES:
            facts = sorted(facts, key=lambda e: (not e.on_path, -e.score))[:MAX_FACT_EDGES]
        edges = [e for e in facts + others if e.source in self.nodes and e.target in self.nodes]
        nodes = sorted(
            self.nodes.values(), key=lambda n: (n.kind != "passage", n.rank or 0, -n.score, n.id)
        )
        return Explanation(
            question=question,
            mode=mode,
            result=self.result,
            nodes=nodes,
            edges=edges,
            seeds=seeds,
            timings_ms=dict(self.result.timings_ms),
        )


def from_result(result: SearchResult) -> Explanation:
    """The subgraph a :class:`SearchResult` alone shows (no seed weights, no per-node walk scores).

    Used for results from a remote store (the client SDK); prefer :func:`explain` locally.
    """
    b = _Builder(result)
    b.passages()
    b.matched_facts()
    b.top_entities()
    # Without the walk's seeds, the entities of the best-matched facts stand in for them.
    seeds: dict[str, float] = {}
    for fh in result.facts[:5]:
        for eid in (fh.fact.subject, fh.fact.object):
            seeds[eid] = max(seeds.get(eid, 0.0), fh.score)
    for eid, w in seeds.items():
        if eid in b.nodes:
            b.nodes[eid].seed = w
    b.mark_paths(seeds)
    return b.build(result.question, result.mode, {})


def _sync_memory(memory: Any) -> Any:
    # AsyncMemory wraps a Memory as ``.sync``; explain works on the wrapped one.
    inner = getattr(memory, "sync", None)
    return inner if inner is not None and hasattr(inner, "store") else memory


def explain(memory: Any, question: str, *, k: int = 5, namespace: str | None = None) -> Explanation:
    """Search ``memory`` for ``question`` and build the subgraph behind the answer.

    ``memory``: a :class:`graphmem.Memory` (or ``AsyncMemory``, whose wrapped Memory is used).
    Nodes: the seed entities with their seed weights, the entities with the highest PageRank
    scores, the answer passages; edges: the facts between them (predicate as label), which passage
    mentions which entity, synonym links; the shortest seed-to-passage paths are marked.

    >>> ex = explain(mem, "Who directed the film that won?", k=3)   # doctest: +SKIP
    >>> [n.label for n in ex.nodes if n.seed > 0]                  # doctest: +SKIP
    """
    mem = _sync_memory(memory)
    searcher = getattr(mem, "searcher", None)
    if not isinstance(searcher, Searcher):
        raise InputError(
            "explain needs a local Memory; for a client result use graphmem.viz.from_result",
            field="memory",
        )
    searched = searcher.run(question, k=k, namespace=namespace)
    result, found = searched.result, searched.retrieved.passages
    store, ns = searcher.store, searched.retrieved.request.namespace

    b = _Builder(result)
    b.passages()
    b.matched_facts()
    entity_seeds = {nid: w for nid, w in found.seeds.items() if is_kind(nid, ENTITY)}
    scores = found.node_scores
    best = found.top(ENTITY, MAX_EXTRA_ENTITIES + len(b.nodes))
    extra = [nid for nid, _ in best if nid not in b.nodes][:MAX_EXTRA_ENTITIES]
    wanted = sorted(set(entity_seeds) | set(extra) | set(of_kind(b.nodes, ENTITY)))
    entities = store.get_entities(ns, wanted)
    for eid in wanted:
        ent = entities.get(eid)
        b.entity(eid, ent.name if ent else eid, seed=entity_seeds.get(eid, 0.0))
    for node in b.nodes.values():
        if node.kind == "entity":
            node.score = scores.get(node.id, node.score)
    ent_ids = of_kind(b.nodes, ENTITY)
    # The facts among the drawn entities: the paths the walk could take between them.
    kept: list[Fact] = [
        f for f in store.facts_between(ns, ent_ids) if f.subject in b.nodes and f.object in b.nodes
    ]
    names = {n.id: n.label for n in b.nodes.values()}
    for f in kept:
        score = scores.get(f.subject, 0.0) + scores.get(f.object, 0.0)
        b.edge(
            _fact_edge(
                FactHit(
                    fact=f, score=score, subject_name=names[f.subject], object_name=names[f.object]
                )
            )
        )
    pids = of_kind(b.nodes, PASSAGE)
    for e in store.edges_of(ns, pids + ent_ids, ["MENTIONS", "SYNONYM"]):
        if e.src in b.nodes and e.dst in b.nodes:
            kind: EdgeKind = "mentions" if e.type == "MENTIONS" else "synonym"
            b.edge(GraphEdge(source=e.src, target=e.dst, kind=kind, score=e.weight))
    b.mark_paths(entity_seeds)
    return b.build(question, result.mode, entity_seeds)
