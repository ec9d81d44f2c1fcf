"""Episodic retrieval (AriGraph), fused with dense similarity and PageRank over episode nodes.

For one question:

1. **Candidates**: the ``candidates`` episodes closest to the question by embedding (cosine).
2. **Relevant facts**: the ``fact_top_k`` facts closest to the question (only those valid at
   ``as_of`` / during ``between`` when given).
3. **AriGraph score** of an episode: the similarity-weighted count ``n`` of relevant facts it gives
   EVIDENCE for, times ``log(1 + N) / N`` where ``N`` is how many facts it evidences in all
   (AriGraph's ``n / N * log N``, with ``log(1 + N)`` so one-fact episodes are not zeroed).
4. **PageRank** over the namespace graph (entities, episodes with their NEXT chain, hyperedges,
   sessions, speakers), seeded by the relevant facts' entities, the entities *named* in the question
   (word n-grams looked up by normalized name), each divided by how many episodes or passages the
   entity touches (a name found everywhere says little), and the candidate episodes themselves
   weighted by their dense score.
5. **Neighbours**: a turn that answers is often next to the turn that matches (a question and its
   answer), so each episode also gets the best dense score of its NEXT neighbours.
6. **Fusion**, as the passage path's (:mod:`graphmem.retrieve.fusion`): the first stage is dense
   and BM25 (the store's full-text index over episodes) fused by weighted RRF, with the turns of
   the best sessions and the turns inside the question's time windows as further rankings
   (:mod:`graphmem.retrieve.episode_rank`). The graph's ranking (``w_ppr * ppr' + w_arigraph *
   ari' + w_neighbors * nbr'``, min-max normalized over the candidates) is fused with it at the
   weight of its agreement with the first stage (``graph_gate``: a graph that says nothing leaves
   the first stage as it was), at most ``gate_max``, or ``gate_max_unnamed`` (0: no walk) when
   the question names none of the speakers; a turn whose changing facts had all ended by the
   query's time moves below the current ones; dense's and BM25's best stay in the top
   ``keep_best_depth``.

Filters: ``as_of`` keeps episodes up to that time (and facts valid then), ``between=(start, end)``
those inside it (either end may be None). ``context`` gives each hit its session neighbours' ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from graphmem.ids import EPISODE, PASSAGE, entity_id, is_kind, normalize_name
from graphmem.models import Episode, Fact
from graphmem.retrieve.arigraph import arigraph_scores
from graphmem.retrieve.asof import graph_as_of
from graphmem.retrieve.base import Between, Request, Retrieval
from graphmem.retrieve.current import holding_leads, lead, newer_first, superseded
from graphmem.retrieve.episode_rank import (
    asks_count,
    asks_now,
    asks_past,
    context_of,
    in_windows,
    lexical_query,
    named_windows,
    session_ranking,
    spread,
    time_windows,
)
from graphmem.retrieve.episode_settings import EpisodeSearchSettings as EpisodeSearchSettings
from graphmem.retrieve.fusion import fuse, graph_gate, keep_best, rrf
from graphmem.retrieve.ppr import personalized_pagerank
from graphmem.retrieve.scores import minmax
from graphmem.store.base import LendsEpisodes, Store, Vector
from graphmem.store.graph import GraphView
from graphmem.validity import overlaps, utc, valid_at

_WHEN = re.compile(
    r"^\s*(?:when\b|what (?:day|date|time|month|year|week)\b|how long ago\b|since when\b)"
    r"|\b(?:what|which) (?:day|date|month|year|week)\b",
    re.IGNORECASE,
)
_STOP_WORDS = (
    "a an the of in on at to for with by from and or is are was were be been do does did what "
    "when where who whom whose which why how that this these those it its his her their my your "
    "our has have had not no yes would could should will can may might"
)
_STOP = frozenset(_STOP_WORDS.split())
_WORD = re.compile(r"[^\W\d_]+")
#: n-grams of the question up to this many words are looked up as entity names
MAX_NGRAM = 5


@dataclass
class Components:
    """The per-candidate parts of the score, before fusion (kept for tuning and explanation)."""

    ids: list[str]
    dense: np.ndarray
    ppr: np.ndarray
    arigraph: np.ndarray
    neighbors: np.ndarray
    timed: np.ndarray
    #: days before the query's time (zeros unless ``recency_weight`` reads them)
    age_days: np.ndarray


@dataclass
class EpisodeRetrieval(Retrieval):
    """What :func:`retrieve_episodes` found, by id (``hits``: the ranked episodes)."""

    #: hit -> the facts among the relevant ones it gives evidence for
    evidence: dict[str, list[str]] = field(default_factory=dict)
    #: hit -> ids of its neighbours in its session (``settings.context`` steps each way)
    context: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[str, Episode] = field(default_factory=dict)
    #: the relevant facts' rows, as read for the ranking (the result's facts are made from them)
    fact_rows: dict[str, Fact] = field(default_factory=dict)
    components: Components | None = None


def asks_when(question: str) -> bool:
    """Does the question ask for a time ("When did ...", "What year ...")?"""
    return bool(_WHEN.search(question))


def named_entities(graph: GraphView, namespace: str, question: str) -> list[int]:
    """Graph indices of entities whose normalized name is an n-gram of ``question``."""
    words = normalize_name(question).split()
    found: list[int] = []
    for n in range(1, MAX_NGRAM + 1):
        for i in range(len(words) - n + 1):
            gram = words[i : i + n]
            if gram[0] in _STOP or gram[-1] in _STOP:
                continue
            idx = graph.index_of(entity_id(namespace, " ".join(gram)))
            if idx is not None and idx not in found:
                found.append(idx)
    return found


def names_speaker(question: str, episodes: Iterable[Episode]) -> bool:
    """Does the question name one of these episodes' speakers ("What did Caroline paint?")?"""
    words = {w.casefold() for w in _WORD.findall(question)}
    speakers = {ep.speaker for ep in episodes if ep.speaker}
    return any(
        (name := {w.casefold() for w in _WORD.findall(s)}) and name <= words for s in speakers
    )


def _visible(
    rows: dict[str, Episode], as_of: datetime | None, between: tuple[datetime | None, ...] | None
) -> dict[str, Episode]:
    """The episodes of ``rows`` at or before ``as_of`` and inside ``between``."""
    if as_of is None and between is None:
        return rows
    start, end = between if between is not None else (None, None)
    ends = [utc(t) for t in (as_of, end) if t is not None]
    hi = min(ends) if ends else None
    lo = utc(start) if start is not None else None
    out = {}
    for i, ep in rows.items():
        t = utc(ep.time)
        if (hi is None or t <= hi) and (lo is None or t >= lo):
            out[i] = ep
    return out


def _fact_ok(f: Fact, as_of: datetime | None, between: tuple[datetime | None, ...] | None) -> bool:
    if as_of is not None and not valid_at(f, as_of):
        return False
    return between is None or overlaps(f, between[0], between[1])


def retrieve_episodes(
    store: Store,
    namespace: str,
    query: Vector,
    question: str,
    k: int,
    settings: EpisodeSearchSettings | None = None,
    *,
    as_of: datetime | None = None,
    between: Between | None = None,
    now: datetime | None = None,
    need_walk: bool = False,
) -> EpisodeRetrieval:
    """Rank the namespace's episodes for one question (see the module docstring).

    ``need_walk``: run the walk even where it cannot move a rank, for its node scores (the units
    it reached)."""
    cfg = settings or EpisodeSearchSettings()
    q = np.asarray(query, dtype=np.float32).reshape(1, -1)
    n_cand = max(k, cfg.candidates)
    hits = store.vector_search(namespace, "episode", q, n_cand)[0]
    if not hits:
        return EpisodeRetrieval([], {}, [], {}, mode="episodic")
    lex = _lexical(store, namespace, question, max(k, cfg.lexical_candidates), cfg)
    dense = dict(hits)
    rows = _episodes(store, namespace, list(dict.fromkeys([e for e, _ in hits + lex])))
    rows = _visible(rows, as_of, between)
    dense_ids = [i for i, _ in hits if i in rows]
    lex_ids = [i for i, _ in lex if i in rows]
    bests = dense_ids[:1] + lex_ids[:1]  # kept near the top
    first = _first_stage(dense_ids, lex_ids, rows, question, as_of or now, cfg)
    fact_hits = store.vector_search(namespace, "fact", q, cfg.fact_top_k * 3)[0]
    fact_rows = store.get_facts(namespace, [f for f, _ in fact_hits])
    if as_of is not None or between is not None:
        fact_hits = [
            (f, s)
            for f, s in fact_hits
            if f in fact_rows and _fact_ok(fact_rows[f], as_of, between)
        ]
    fact_hits = fact_hits[: cfg.fact_top_k]

    graph: GraphView = store.graph(namespace)
    # The graph's weight is capped by whether the question names a speaker; at a cap of 0 the
    # walk cannot move a rank, so it runs only when a caller reads its scores (units).
    cap = cfg.gate_max if names_speaker(question, rows.values()) else cfg.gate_max_unnamed
    walk = cap > 0 or need_walk
    if as_of is not None and walk:  # the past's fact edges: only the walk reads them
        graph = graph_as_of(store, namespace, graph, as_of)
    seeds = _seeds(graph, namespace, question, fact_hits, fact_rows, hits, cfg) if walk else {}
    scores: dict[int, float] = {}
    if seeds and (cfg.w_ppr > 0 or cfg.w_neighbors > 0):
        scores = personalized_pagerank(
            graph, seeds, damping=cfg.damping, tol=cfg.tol, max_iter=cfg.max_iter, engine=cfg.engine
        )
    node_scores = {graph.node_id(i): s for i, s in scores.items()}

    # Episodes the walk reached strongly join the candidates.
    walked = sorted(
        ((n, s) for n, s in node_scores.items() if is_kind(n, EPISODE) and n not in rows),
        key=lambda t: -t[1],
    )[:n_cand]
    if walked:
        more = _episodes(store, namespace, [n for n, _ in walked])
        rows.update(_visible(more, as_of, between))
    ids = first + [n for n, _ in walked if n in rows]
    if not ids:
        return EpisodeRetrieval([], dense, fact_hits, {}, node_scores, mode="episodic")
    floor = min(dense.values())
    d = np.array([dense.get(i, floor) for i in ids])
    dn = minmax(d)
    p = np.array([node_scores.get(i, 0.0) for i in ids])

    ari, evidence = arigraph_scores(store, namespace, ids, fact_hits)
    nbr = np.zeros(len(ids))
    if walk and (cfg.w_neighbors > 0 or cfg.context > 0):
        idx = [graph.index_of(i) for i in ids]
        known = [(j, x) for j, x in enumerate(idx) if x is not None]
        # `at` is dn (in [0, 1]) on the candidates, all episodes, and 0 elsewhere: max = best one.
        at = np.zeros(graph.num_nodes)
        at[[x for _, x in known]] = dn[[j for j, _ in known]]
        for (j, _), (nb, _) in zip(known, graph.neighbors([x for _, x in known]), strict=True):
            if nb.size:
                nbr[j] = max(float(at[nb].max()), 0.0)
    timed = np.array([1.0 if rows[i].metadata.get("times") else 0.0 for i in ids])
    age = _ages(ids, rows, as_of or now) if cfg.recency_weight else np.zeros(len(ids))
    comp = Components(ids, d, p, ari, nbr, timed, age)
    leads: list[str] = []
    windows = named_windows(question, as_of or now)
    if cfg.lead_margin >= 0 and (windows or asks_now(question)):
        named = {graph.node_id(i) for i in named_entities(graph, namespace, question)}
        when = as_of or now
        leads = holding_leads(
            store, namespace, question, fact_hits, fact_rows, named, when, windows, cfg.lead_margin
        )
    ranked = _final_order(
        store, namespace, comp, first, bests, rows, question, as_of, k, cfg, cap, leads
    )
    context = context_of(graph, [i for i, _ in ranked], cfg.context) if cfg.context else {}
    return EpisodeRetrieval(
        hits=ranked,
        dense=dense,
        facts=fact_hits,
        seeds={graph.node_id(i): w for i, w in seeds.items()},
        node_scores=node_scores,
        mode="episodic",
        evidence={i: evidence.get(i, []) for i, _ in ranked},
        context=context,
        rows=rows,
        fact_rows=fact_rows,
        components=comp,
    )


def _ages(ids: Sequence[str], rows: dict[str, Episode], when: datetime | None) -> np.ndarray:
    """Each episode's age in days at ``when`` (else at the newest of ``rows``)."""
    ref = utc(when or max(utc(ep.time) for ep in rows.values())).timestamp()
    stamps = np.array([utc(rows[i].time).timestamp() for i in ids])
    return np.asarray(np.maximum(0.0, (ref - stamps) / 86400), dtype=np.float64)


def _episodes(store: Store, namespace: str, ids: list[str]) -> dict[str, Episode]:
    """The candidates, only read here: lent where the store keeps them (the hits copy theirs)."""
    if isinstance(store, LendsEpisodes):
        return store.lend_episodes(namespace, ids)
    return store.get_episodes(namespace, ids)


def _lexical(
    store: Store, namespace: str, question: str, n: int, cfg: EpisodeSearchSettings
) -> list[tuple[str, float]]:
    """BM25 hits over episode text ([] when BM25 counts for nothing or the store's full-text
    index does not rank by BM25: FalkorDB's TF-IDF, as on the passage path)."""
    if cfg.bm25_weight <= 0 or not question.strip() or store.text_ranking != "bm25":
        return []
    if cfg.lexical_stop_words:
        question = lexical_query(question)
    return store.text_search(namespace, question, n, kind="episode")


def _first_stage(
    dense_ids: list[str],
    lex_ids: list[str],
    rows: dict[str, Episode],
    question: str,
    when: datetime | None,
    cfg: EpisodeSearchSettings,
) -> list[str]:
    """Dense and BM25 fused by weighted RRF, then fused again with the rankings that read the
    question (its sessions, its time windows, "when" turns holding a time): see
    :mod:`graphmem.retrieve.episode_rank`."""
    base = [t for t, _ in rrf([dense_ids, lex_ids], [1.0, cfg.bm25_weight])]
    rankings: list[list[str]] = [dense_ids, lex_ids]
    weights: list[float] = [1.0, cfg.bm25_weight]
    if cfg.session_weight > 0:
        session_of = {t: rows[t].session for t in base}
        rankings.append(session_ranking(base, session_of, top=cfg.session_top))
        weights.append(cfg.session_weight)
    windows = time_windows(question, when) if cfg.window_weight > 0 else []
    inside = [t for t in base if in_windows(rows[t].time, windows)] if windows else []
    if inside:
        rankings.append(inside)
        weights.append(cfg.window_weight)
    if cfg.w_time > 0 and asks_when(question):
        rankings.append([t for t in base if rows[t].metadata.get("times")])
        weights.append(cfg.w_time)
    if len(rankings) == 2:
        return base
    return [t for t, _ in rrf(rankings, weights)]


def _final_order(
    store: Store,
    namespace: str,
    comp: Components,
    first: list[str],
    bests: Sequence[str],
    rows: dict[str, Episode],
    question: str,
    as_of: datetime | None,
    k: int,
    cfg: EpisodeSearchSettings,
    cap: float,
    leads: Sequence[str] = (),
) -> list[tuple[str, float]]:
    """The first stage fused with the graph's ranking at the gate's weight; stale turns down,
    ``leads`` (retrieve/current.py) up, ``bests`` (dense's and BM25's best) kept near the top,
    count questions spread over sessions."""
    graph_score = graph_scores(comp, cfg)
    ids = comp.ids
    walked = [ids[j] for j in np.lexsort((np.arange(len(ids)), -graph_score)) if graph_score[j] > 0]
    gate = graph_gate(first, walked, depth=cfg.gate_depth, low=cfg.gate_low, high=cfg.gate_high)
    gate = min(gate, cap)
    fused = dict(fuse(first, walked, gate=gate, protect=cfg.protect_top))
    pos = {t: i for i, t in enumerate(first)}
    order = sorted(fused, key=lambda t: (-fused[t], pos.get(t, len(pos))))
    # a fully trusted walk ranks only what it reached: the first stage fills the rest
    order += [t for t in first if t not in fused]
    if cfg.w_superseded > 0 and order:
        # Moved down by places, not by a share of the score: rank-fusion scores are too close
        # together for a share to mean anything. A question about the present (a cue of now,
        # or none of the past) puts every stale turn of the window below the current ones.
        window = max(k, cfg.rerank)
        stale = superseded(store, namespace, order[:window], as_of)
        present = asks_now(question) or not asks_past(question)
        shift = window if present else round(cfg.w_superseded * cfg.stale_places)
        place = {t: i + (shift + 0.5 if t in stale else 0) for i, t in enumerate(order)}
        order = sorted(order, key=lambda t: place[t])
    if cfg.restated_cover > 0:
        order = newer_first(order, rows, question, cfg.restated_window, cfg.restated_cover, as_of)
    order = lead(order, leads, max(k, cfg.rerank))
    order = keep_best(order, bests, cfg.keep_best_depth)
    if cfg.spread_cap > 0 and asks_count(question):
        session_of = {t: rows[t].session for t in order if t in rows}
        order = spread(order, session_of, cap=cfg.spread_cap, depth=cfg.spread_depth)
    scores = sorted(fused.values(), reverse=True)
    scores += [scores[-1] if scores else 0.0] * (len(order) - len(scores))
    return list(zip(order, scores, strict=True))[:k]


def graph_scores(c: Components, cfg: EpisodeSearchSettings) -> np.ndarray:
    """The graph's own score of each candidate (the walk, AriGraph's fact overlap, the best
    dense neighbour), without the first stage's: what the gate weighs against it."""
    score = np.zeros(len(c.ids))
    if cfg.w_ppr:
        score = score + cfg.w_ppr * minmax(c.ppr)
    if cfg.w_arigraph:
        score = score + cfg.w_arigraph * minmax(c.arigraph)
    if cfg.w_neighbors:
        score = score + cfg.w_neighbors * c.neighbors
    if cfg.recency_weight:
        score = score + cfg.recency_weight * np.power(0.5, c.age_days / cfg.recency_half_life_days)
    return np.asarray(score, dtype=np.float64)


def _seeds(
    graph: GraphView,
    namespace: str,
    question: str,
    fact_hits: Sequence[tuple[str, float]],
    fact_rows: dict[str, Fact],
    hits: Sequence[tuple[str, float]],
    cfg: EpisodeSearchSettings,
) -> dict[int, float]:
    seeds: dict[int, float] = {}
    if fact_hits:
        fs = minmax(np.array([s for _, s in fact_hits]))
        for (fid, _), w in zip(fact_hits, fs.tolist(), strict=True):
            f = fact_rows.get(fid)
            for eid in (f.subject, f.object) if f is not None else ():
                idx = graph.index_of(eid)
                if idx is not None:
                    seeds[idx] = max(seeds.get(idx, 0.0), w)
    if cfg.entity_match and cfg.name_weight > 0:
        for idx in named_entities(graph, namespace, question):
            seeds[idx] = max(seeds.get(idx, 0.0), cfg.name_weight)
    if seeds:
        order = list(seeds)
        for idx, (nbrs, _) in zip(order, graph.neighbors(order), strict=True):
            n_units = sum(
                1 for j in nbrs.tolist() if graph.node_id(j).startswith((EPISODE, PASSAGE))
            )
            if n_units > 1:
                seeds[idx] /= n_units
    if cfg.episode_seed_weight > 0 and hits:
        ws = minmax(np.array([s for _, s in hits]))
        for (eid, _), w in zip(hits, ws.tolist(), strict=True):
            idx = graph.index_of(eid)
            if idx is not None and w > 0:
                seeds[idx] = seeds.get(idx, 0.0) + w * cfg.episode_seed_weight
    return seeds


@dataclass(frozen=True)
class EpisodeRetriever:
    """:func:`retrieve_episodes` behind the retriever contract (context when "context" is asked)."""

    settings: EpisodeSearchSettings = field(default_factory=EpisodeSearchSettings)

    def __call__(self, request: Request) -> EpisodeRetrieval:
        r, cfg = request, self.settings
        if "context" in r.units and cfg.context == 0:
            cfg = replace(cfg, context=1)
        return retrieve_episodes(
            r.store,
            r.namespace,
            r.vector,
            r.question,
            r.k,
            cfg,
            as_of=r.as_of,
            between=r.between,
            need_walk="hyperedges" in r.units,
        )
