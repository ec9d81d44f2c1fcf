"""HippoRAG 2 retrieval: facts seed entities, dense scores seed passages, PageRank ranks passages.

1. The question's embedding finds the closest facts; their subject and object entities become
   seeds, weighted by the fact's (min-max normalized) similarity and divided by how many passages
   mention the entity (a name found everywhere says little). Entities the question names
   (``named``: query NER, HippoRAG's first seeds) are seeds the same way.
2. Every candidate passage is a seed too, weighted by its dense score times a small
   ``passage_weight``, so the graph refines the dense ranking instead of replacing it.
3. Personalized PageRank (damping 0.5) runs over entities, passages, events, hyperedges and
   episodes; passages are ranked by their PageRank score.

If nothing seeds the walk (an empty graph, no facts, no named entity in it), the first stage's
ranking is returned as is. The final order fuses the walk with the first stage
(:mod:`graphmem.retrieve.fusion`).

>>> PassageSearchSettings().damping
0.5
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

from graphmem.errors import GraphmemError
from graphmem.ids import PASSAGE, entity_id, is_kind, normalize_name
from graphmem.models import Fact
from graphmem.retrieve.base import Request, Retrieval
from graphmem.retrieve.fusion import first_stage, fuse, graph_gate, keep_best
from graphmem.retrieve.ppr import (
    EXACT,
    EXACT_ENGINES,
    Engine,
    pagerank_vector,
    personalized_pagerank,
)
from graphmem.retrieve.scores import NodeScores, minmax
from graphmem.store.base import Store, Vector
from graphmem.store.graph import GraphView

log = logging.getLogger(__name__)
#: names the entities a question mentions (an LLM extractor's ``question_entities``)
Namer = Callable[[str], list[str]]
#: keeps the facts that bear on a question: indices into the fact texts, None if it cannot tell
#: (an LLM extractor's ``recognize_facts``)
Recognizer = Callable[[str, Sequence[str]], "list[int] | None"]


@dataclass(frozen=True)
class PassageSearchSettings:
    """Knobs of the pipeline; defaults tuned on musique_train and checked on data without triples."""

    fact_top_k: int = 5
    #: entities whose names embed close to the question also seed the walk (0: off)
    entity_top_k: int = 0
    entity_weight: float = 0.5
    #: seed weight of entities named in the question (HippoRAG's query NER: spaCy's rules or the
    #: LLM, see ``Memory(namer=)``), divided like fact seeds by their passages. On musique_train
    #: naming them lifts R@5 from 67.5 to 71.7 with triples and from 67.8 to 72.2 without; 0.5
    #: and 1 tie on the sweep's worst case, and 1 is ahead on the mean
    named_weight: float = 1.0
    #: best dense passages that also seed the walk (at ``passage_weight``, min-max scaled); on
    #: musique_train 20 to 200 give the same recall within 1 point, and a server store answers
    #: 50 several times faster than 200
    passage_candidates: int = 50
    passage_weight: float = 0.05
    damping: float = 0.5
    #: "auto": an exact engine (``ppr.EXACT``) on an in-memory graph (the embedded store), local
    #: push on a remote one (a server store: only the question's neighbourhood is fetched)
    engine: Literal["auto", "exact", "push", "prpack"] = "auto"
    #: L1 change between iterations at which the exact walk stops (float32 from 1e-5 up); on
    #: musique_train 1e-3 to 1e-6 rank identically, 1e-4 takes 12 iterations instead of 16
    tol: float = 1e-4
    max_iter: int = 50
    #: BM25's weight in the first stage's rank fusion with dense (0: dense alone; a store whose
    #: full-text index does not rank by BM25, FalkorDB's TF-IDF, counts as 0: on musique_train
    #: its ranking alone finds R@5 5.0 against FTS5's 51.0, and fusing it cost R@2 10 points); see
    #: :mod:`graphmem.retrieve.fusion` for why the final order is built the way it is. Equal
    #: weight: on musique_train (with and without triples) 0 to 1 give the same worst case, and on
    #: the notes corpus, where names matter more than paraphrase, R@2/R@5 go from 40.4/55.8 at 0
    #: and 41.7/57.7 at 0.5 to 46.2/61.5 at 1 (BM25 alone: 46.2/61.5)
    bm25_weight: float = 1.0
    #: the first stage's best passages kept at the top, above the walk's order
    protect_top: int = 1
    #: dense's and BM25's own best passage each stays within the first ``keep_best_depth``
    #: places (0: off); see :func:`graphmem.retrieve.fusion.keep_best`
    keep_best_depth: int = 5
    #: the walk counts fully when at least ``gate_high`` of its top ``gate_depth`` passages are in
    #: the first stage's top ``gate_depth``, not at all at ``gate_low`` or less
    gate_depth: int = 10
    gate_low: float = 0.2
    gate_high: float = 0.5
    #: recognition without an LLM: fact seeds whose similarity is more than this below the best
    #: fact's are dropped (2.0: keep all, as HippoRAG 2 without its LLM filter). Chosen by the
    #: worst case of benchmarks/sweep.py over musique_train with and without triples, each half:
    #: 0.05 is the only margin with no half below max(dense, BM25) at R@2 or R@5
    fact_margin: float = 0.05
    #: HippoRAG 2's recognition memory: an LLM keeps the matched facts that bear on the question
    #: (one short call per question, cached), after the margin filter; needs a recognizer (the
    #: LLM extractor's), else it is a no-op
    llm_recognition: bool = False


def entity_seeds(
    graph: GraphView, facts: list[tuple[str, float]], endpoints: dict[str, tuple[str, str]]
) -> dict[int, float]:
    """Seed weights of the entities at both ends of the matched facts (HippoRAG 2's rule)."""
    if not facts:
        return {}
    scores = minmax(np.array([s for _, s in facts], dtype=np.float64), constant="one")
    seeds: dict[int, float] = {}
    for (fid, _), score in zip(facts, scores.tolist(), strict=True):
        for eid in endpoints.get(fid, ()):
            idx = graph.index_of(eid)
            if idx is not None:
                seeds[idx] = max(seeds.get(idx, 0.0), score)
    if seeds:
        order = list(seeds)
        for idx, n_passages in zip(order, passage_degrees(graph, order), strict=True):
            if n_passages > 1:
                seeds[idx] /= n_passages
    return seeds


def passage_degrees(graph: GraphView, nodes: list[int]) -> list[int]:
    """How many passages each of ``nodes`` links to (a name found everywhere says little)."""
    rows = graph.neighbors(nodes)
    mask_of = getattr(graph, "prefix_mask", None)
    if callable(mask_of):  # in memory: one array lookup per row, not a string test per neighbour
        mask: npt.NDArray[np.bool_] = mask_of(PASSAGE)
        return [int(np.count_nonzero(mask[nbrs])) for nbrs, _ in rows]
    return [sum(1 for j in nbrs.tolist() if is_kind(graph.node_id(j), PASSAGE)) for nbrs, _ in rows]


def _as_of(
    store: Store,
    namespace: str,
    q: Vector,
    settings: PassageSearchSettings,
    graph: GraphView,
    as_of: datetime,
) -> tuple[list[tuple[str, float]], GraphView]:
    """The fact hits valid at ``as_of`` (searching deeper to find enough) and the graph then."""
    from graphmem.retrieve.asof import graph_as_of
    from graphmem.validity import valid_at

    hits = store.vector_search(namespace, "fact", q, settings.fact_top_k * 4)[0]
    rows = store.get_facts(namespace, [f for f, _ in hits])
    kept = [(f, s) for f, s in hits if f in rows and valid_at(rows[f], as_of)]
    return kept[: settings.fact_top_k], graph_as_of(store, namespace, graph, as_of)


def _auto_engine(graph: GraphView) -> Engine:
    """Local push where neighbourhoods come from a server, exact power iteration in memory."""
    return "push" if getattr(graph, "remote", False) else EXACT


def _current(
    store: Store, namespace: str, q: Vector, settings: PassageSearchSettings
) -> tuple[list[tuple[str, float]], dict[str, Fact]]:
    """The best fact hits that still hold (not invalidated, not expired), and their rows."""
    hits = store.vector_search(namespace, "fact", q, settings.fact_top_k * 4)[0]
    rows = store.get_facts(namespace, [f for f, _ in hits])
    kept = [
        (f, s)
        for f, s in hits
        if f in rows and rows[f].invalid_at is None and rows[f].expired_at is None
    ][: settings.fact_top_k]
    return kept, {f: rows[f] for f, _ in kept}


def retrieve(
    store: Store,
    namespace: str,
    query: Vector,
    k: int,
    settings: PassageSearchSettings | None = None,
    *,
    as_of: datetime | None = None,
    named: Sequence[str] | Callable[[], Sequence[str]] = (),
    question: str = "",
    recognize: Recognizer | None = None,
    lexical: Callable[[], list[tuple[str, float]]] | None = None,
) -> Retrieval:
    """Rank passages for one question embedding (shape ``(dim,)`` or ``(1, dim)``).

    ``as_of``: seed only with facts valid then, and walk the graph of the facts valid then
    (:func:`graphmem.retrieve.asof.graph_as_of`). ``named``: ids of entities named in the question,
    seeded with ``settings.named_weight`` (or a callable giving them, asked once the walk needs them). ``question``: its text, for the BM25 half of the first
    stage (when the store has a full-text index and ``settings.bm25_weight`` > 0).
    ``recognize``: keeps the matched facts that bear on the question (an LLM's recognition).
    ``lexical``: waits for the BM25 hits :func:`lexical_hits` gives, already under way.
    """
    settings = settings or PassageSearchSettings()
    q = query.reshape(1, -1)
    n_cand = max(k, settings.passage_candidates)
    dense_hits = store.vector_search(namespace, "passage", q, n_cand)[0]
    dense = dict(dense_hits)
    lex = (
        lexical() if lexical is not None else lexical_hits(store, namespace, question, k, settings)
    )
    first = first_stage(dense_hits, lex, settings.bm25_weight)
    bests = [hits[0][0] for hits in (dense_hits, lex) if hits]
    fact_hits = store.vector_search(namespace, "fact", q, settings.fact_top_k)[0]
    graph: GraphView = store.graph(namespace)
    fact_rows = store.get_facts(namespace, [f for f, _ in fact_hits])
    if as_of is not None:
        fact_hits, graph = _as_of(store, namespace, q, settings, graph, as_of)
        fact_rows = store.get_facts(namespace, [f for f, _ in fact_hits])
    elif any(f.invalid_at is not None or f.expired_at is not None for f in fact_rows.values()):
        # Without as_of the question is about now: facts that ended do not seed the walk (the
        # graph already leaves them out); search deeper for current ones instead.
        fact_hits, fact_rows = _current(store, namespace, q, settings)
    if fact_hits:
        best = fact_hits[0][1]
        fact_hits = [(f, s) for f, s in fact_hits if s >= best - settings.fact_margin]
    if recognize is not None and fact_hits:
        fact_hits = _recognized(fact_hits, fact_rows, question, recognize)
    endpoints = {fid: (f.subject, f.object) for fid, f in fact_rows.items()}
    seeds = entity_seeds(graph, fact_hits, endpoints)
    if settings.entity_top_k > 0:
        ent_hits = store.vector_search(namespace, "entity", q, settings.entity_top_k)[0]
        for eid, w in ent_hits:
            idx = graph.index_of(eid)
            if idx is not None and w > 0:
                seeds[idx] = seeds.get(idx, 0.0) + w * settings.entity_weight
    # the names are waited for only here, so the namer (under way since the question was
    # embedded) overlaps the vector searches and fact reads above
    named_ids = () if settings.named_weight <= 0 else named() if callable(named) else named
    if named_ids:
        named_idx = [i for i in (graph.index_of(e) for e in named_ids) if i is not None]
        for idx, n_passages in zip(named_idx, passage_degrees(graph, named_idx), strict=True):
            seeds[idx] = seeds.get(idx, 0.0) + settings.named_weight / max(1, n_passages)
    if not seeds:
        order = keep_best(first, bests, settings.keep_best_depth)
        ranked = [(p, dense.get(p, 0.0)) for p in order[:k]]
        return Retrieval(ranked, dense, fact_hits, {}, mode="dense")
    if dense_hits:
        pscores = minmax(np.array([s for _, s in dense_hits], dtype=np.float64), constant="one")
        for (pid, _), w in zip(dense_hits, pscores.tolist(), strict=True):
            idx = graph.index_of(pid)
            if idx is not None and w > 0:
                seeds[idx] = seeds.get(idx, 0.0) + w * settings.passage_weight
    damping, tol, max_iter = settings.damping, settings.tol, settings.max_iter
    node_scores: NodeScores
    engine: Engine = settings.engine if settings.engine != "auto" else _auto_engine(graph)
    if engine in EXACT_ENGINES:
        vector = pagerank_vector(
            graph, seeds, damping=damping, tol=tol, max_iter=max_iter, engine=engine
        )
        node_scores = NodeScores(graph, vector=vector)
    else:
        ppr = personalized_pagerank(
            graph, seeds, damping=damping, tol=tol, max_iter=max_iter, engine=engine
        )
        node_scores = NodeScores(graph, sparse=ppr)
    walked = [p for p, _ in node_scores.top(PASSAGE, n_cand)]
    gate = graph_gate(
        first, walked, depth=settings.gate_depth, low=settings.gate_low, high=settings.gate_high
    )
    fused = fuse(first, walked, gate=gate, protect=settings.protect_top)
    # each place keeps its score, so scores still fall with the rank (a passage added from
    # outside the walk's list lengthens it by one place, scored as the last)
    order = keep_best([p for p, _ in fused], bests, settings.keep_best_depth)
    scores = [s for _, s in fused]
    scores += [scores[-1] if scores else 0.0] * (len(order) - len(scores))
    passages = list(zip(order, scores, strict=True))[:k]
    if len(passages) < k:
        # Passages neither ranking reached still rank, below, by dense score.
        seen = {p for p, _ in passages}
        passages += [(p, 0.0) for p, _ in dense_hits if p not in seen][: k - len(passages)]
    return Retrieval(
        hits=passages[:k],
        dense=dense,
        facts=fact_hits,
        seeds={graph.node_id(i): w for i, w in seeds.items()},
        node_scores=node_scores,
    )


def _recognized(
    hits: list[tuple[str, float]], rows: dict[str, Fact], question: str, recognize: Recognizer
) -> list[tuple[str, float]]:
    """The hits ``recognize`` keeps, best first; all of them when it cannot tell."""
    hits = [(f, s) for f, s in hits if f in rows]
    kept = recognize(question, [rows[f].text for f, _ in hits])
    if kept is None:  # no answer: the local filter's facts stand
        return hits
    return [hits[i] for i in sorted(set(kept)) if 0 <= i < len(hits)]


def lexical_hits(
    store: Store, namespace: str, question: str, k: int, settings: PassageSearchSettings
) -> list[tuple[str, float]]:
    """The first stage's BM25 hits from the store's full-text index ([] when BM25 counts for
    nothing, or the index does not rank by BM25): as many as the dense candidates."""
    if settings.bm25_weight <= 0 or not question.strip() or store.text_ranking != "bm25":
        return []
    return store.text_search(namespace, question, max(k, settings.passage_candidates))


@dataclass(frozen=True)
class PassageRetriever:
    """:func:`retrieve` behind the retriever contract, seeding the entities ``namer`` names."""

    settings: PassageSearchSettings = field(default_factory=PassageSearchSettings)
    namer: Namer | None = None
    #: used when ``settings.llm_recognition`` is on
    recognizer: Recognizer | None = None

    def __call__(self, request: Request) -> Retrieval:
        r = request

        def named() -> list[str]:
            return self.named(r.namespace, r.question, r.names)

        recognize = self.recognizer if self.settings.llm_recognition else None
        return retrieve(
            r.store,
            r.namespace,
            r.vector,
            r.k,
            self.settings,
            as_of=r.as_of,
            named=named,
            question=r.question,
            recognize=recognize,
            lexical=r.lexical,
        )

    def named(
        self, namespace: str, question: str, names: Callable[[], list[str]] | None = None
    ) -> list[str]:
        """Ids of the entities ``namer`` names in the question (none without a namer);
        ``names``: the namer's answer, already under way."""
        if self.namer is None or self.settings.named_weight <= 0:
            return []
        try:
            found = names() if names is not None else self.namer(question)
        except GraphmemError as exc:  # retrieval still works from the facts and passages
            log.warning("no entities named for the question: %s", exc)
            return []
        return [entity_id(namespace, n) for n in found if normalize_name(n)]
