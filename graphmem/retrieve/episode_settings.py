"""The knobs of episodic retrieval (:mod:`graphmem.retrieve.episodes`), with why each default.

>>> EpisodeSearchSettings().w_ppr > 0
True
"""

from __future__ import annotations

from dataclasses import dataclass

from graphmem.retrieve.ppr import Engine

__all__ = ["EpisodeSearchSettings"]


@dataclass(frozen=True)
class EpisodeSearchSettings:
    """Knobs of episodic retrieval (see the module docstring); defaults tuned on locomo_dev."""

    candidates: int = 500
    fact_top_k: int = 10
    #: seed the walk with entities named in the question (n-gram lookup)
    entity_match: bool = True
    name_weight: float = 1.0
    #: candidate episodes seed the walk with (min-max dense score) x this
    episode_seed_weight: float = 0.2
    damping: float = 0.7
    engine: Engine = "exact"
    tol: float = 1e-6
    max_iter: int = 50
    w_ppr: float = 1.0
    w_arigraph: float = 0.1
    w_neighbors: float = 0.6
    #: "when" questions: the turns holding a time expression as a ranking of the first stage.
    #: benchmarks/sweep_episodes.py (locomo_dev + 5 LongMemEval histories): 1.0 against 0.3
    #: lifts locomo_dev R@10 67.8 to 69.2 (temporal 85.7 to 92.1) and changes no LongMemEval figure
    w_time: float = 1.0
    #: episodes whose changing facts (graphmem.ingest.temporal) no longer held at the query's
    #: time (``as_of``, else now) move down ``w_superseded * stale_places`` places (a question
    #: about now: below every current one of the best ``rerank``); 0: off
    w_superseded: float = 0.5
    stale_places: int = 4
    rerank: int = 50
    #: a question about a state now or in a window it names: the turns stating the slot facts
    #: that hold then (within this of the best such fact's cosine) lead (retrieve/current.py;
    #: negative: off)
    lead_margin: float = 0.05
    recency_weight: float = 0.0
    recency_half_life_days: float = 30.0
    #: neighbours (each way, in the session) returned as context of each hit
    context: int = 0
    #: BM25 (the store's full-text index over episodes) in the first stage, fused with dense by
    #: weighted RRF (0: dense alone; a store that does not rank by BM25 counts as 0)
    bm25_weight: float = 1.0
    #: BM25 is asked without stop words and pronouns (the store ORs every word, so "what did I"
    #: weighs like content words), and as deep as dense. sweep_episodes.py --halves, locomo_dev:
    #: R@10 66.9 -> 69.1, the worst half's gap to max(dense, BM25) +2.9 -> +7.5 (+6.8 at 100)
    lexical_candidates: int = 500
    lexical_stop_words: bool = True
    #: the turns of the best sessions (summed RRF of their best ``session_top`` turns) as a third
    #: ranking of the first stage (0: off). Off by default: on the sweep (locomo_dev and 5
    #: LongMemEval histories) 0.25 and 0.5 cost LongMemEval R@5 20 points (76.7 to 56.7) for at
    #: most +1.3 on locomo_dev R@10, so their worst gap to max(dense, BM25) is -6.7 against +2.9
    session_weight: float = 0.0
    session_top: int = 3
    #: turns inside the windows the question's time expressions name ("two weeks ago", "in May",
    #: read against ``as_of``) as a ranking of the first stage (0: off)
    window_weight: float = 1.0
    #: the graph's weight: ``gate_max`` when ``gate_high`` of its top ``gate_depth`` are in the
    #: first stage's, 0 at ``gate_low``. Below 1 the first stage keeps a share (0.8 against 1:
    #: locomo_dev R@10 the same, R@5 -0.3; LongMemEval 830ce83f's 3rd evidence turn 15th -> 10th)
    gate_depth: int = 10
    gate_low: float = 0.2
    gate_high: float = 0.5
    gate_max: float = 0.8
    #: ... the cap when the question names none of the candidates' speakers. A first-person
    #: question to an assistant ("How many issues have I read?") gives the walk nothing to
    #: follow but the assistant's entity-heavy answers, and it pushed evidence down: on the whole
    #: longmemeval_dev (no question names a speaker) R@10 79.9 at 0.8, 84.7 at 0.3, 88.0 at 0
    #: (BM25 80.5); locomo_dev (291 of 304 questions name one) keeps 69.3. sweep_episodes.py
    #: --halves, both folders: worst R@ gap to max(dense, BM25) -8.0 at 0.8, -0.6 at 0
    gate_max_unnamed: float = 0.0
    protect_top: int = 1
    #: dense's and BM25's best turn each stays in the first ``keep_best_depth`` places
    keep_best_depth: int = 5
    #: count and list questions: at most ``spread_cap`` turns of a session in the first
    #: ``spread_depth`` places (0: off); not k's, which held the rest back past a deep k. Off by
    #: default: "how many stars do I need" is a count question whose evidence is one session's
    #: turns, pushed out of the top 10 (sweep_episodes.py --halves, locomo_dev + the 9
    #: LongMemEval knowledge-update questions: worst R@10 gap to max(dense, BM25) -58.3 at 2,
    #: -30.0 at 0; locomo_dev R@10 +0.1; no change on 4 LongMemEval histories)
    spread_cap: int = 0
    spread_depth: int = 10
    #: a first-person question about a present state: among the first ``restated_window`` turns,
    #: those holding ``restated_cover`` of its content words (restatements of one value) are
    #: put newest first in the places they hold (retrieve/current.py ``newer_first``; 0: off)
    restated_cover: float = 0.5
    restated_window: int = 10
