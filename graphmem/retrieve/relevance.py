"""Scores people can use: each hit's ``relevance`` and each result's ``confidence``.

The rankers' own scores live on scales of their own (rank fusion gives the top passage 1/61 in
every query; the episode fusion sums min-max parts), so they say nothing across kinds or
questions. A search therefore also reports two numbers on a fixed scale, without changing any
ranking:

**relevance** of a hit (passage, episode, fact, entity, unit), in [0, 1]:

1. ``sim``: the cosine of the hit's stored embedding (:func:`graphmem.store.base.embed_text`,
   the same model for every kind) to the question's;
2. ``calibrated = 1 / (1 + exp(-SIM_SLOPE * (sim - SIM_MIDPOINT)))``, a logistic fitted on
   locomo_dev's episode hits (evidence turn or not: see :data:`SIM_SLOPE`);
3. made non-increasing down its kind's ranking by a running minimum:
   ``relevance[i] = min(calibrated[i], relevance[i - 1])``, so the order each ranker chose is
   kept (ties allowed) and no hit is reported more relevant than its own evidence says.

Mixed lists (plug-ins, MCP, CLI) sort by relevance (:func:`mixed`), never by alternating kinds.

**confidence** of a result, in [0, 1]: a logistic over three features of the top
:data:`TOP_HITS` passages and episodes (:func:`features`):

- ``top_sim``: the best cosine among them;
- ``coverage``: the share of the question's content words (not stop words, 2+ letters, a
  plural "s" dropped) that occur in their texts, titles and speakers (a lexical match of what
  the question asks);
- ``margin``: ``top_sim`` minus the cosine of the last of them (a clear winner, or a flat list);
- ``speaker``: when the question names someone who speaks in the hits ("What did Caroline
  realize…"), the share of the top hits that person said; else 1. A question about one person
  answered by another's turns is LoCoMo's adversarial kind: the other speaker ran the race.
- ``named``: when the question names someone who speaks in the hits, how much better the best
  of that person's turns covers the question's other content words than the best turn of anyone
  else (in [-1, 1]; 0 when no speaker is named). "What did Caroline realize after her race?"
  whose best match is Melanie's turn about her race scores below 0.

``confidence = 1 / (1 + exp(-(CONF_BIAS + Σ CONF_WEIGHTS[f] * f)))`` and ``answerable`` is
``confidence >= ANSWERABLE_THRESHOLD``. The constants come from
``benchmarks/fit_confidence.py`` (see ARCHITECTURE.md for the fit and its held-out AUROC).

>>> round(calibrate(SIM_MIDPOINT), 3)
0.5
>>> non_increasing([0.2, 0.7, 0.1, 0.1])
[0.2, 0.2, 0.1, 0.1]
>>> content_words("Where did Dana's cats go on holidays?")
['dana', 'cat', 'go', 'holiday']
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from graphmem.embed.base import Embedder
from graphmem.models import EntityHit, EpisodeHit, FactHit, HyperedgeHit, PassageHit, SearchResult
from graphmem.models import Hit as Hit
from graphmem.models import mixed as mixed
from graphmem.store.base import AnyNode, Store, Vector, embed_key, embed_text

__all__ = [
    "ANSWERABLE_THRESHOLD",
    "CONF_BIAS",
    "CONF_WEIGHTS",
    "SIM_MIDPOINT",
    "SIM_SLOPE",
    "TOP_HITS",
    "Features",
    "calibrate",
    "confidence",
    "content_words",
    "features",
    "mixed",
    "non_increasing",
    "score_result",
    "similarities",
]

#: slope and midpoint of the cosine -> relevance logistic, fitted (classes weighted equally) on
#: the top-10 episode hits of locomo_dev and longmemeval_dev, evidence turn or not
#: (benchmarks/fit_confidence.py)
SIM_SLOPE = 2.15
SIM_MIDPOINT = 0.50
#: the passages and episodes (best relevance first) whose features make the confidence
TOP_HITS = 5
#: confidence: bias and one weight per :class:`Features` field. top_sim, coverage and margin are
#: the stratified logistic's (an intercept per data set, each set and class weighing the same)
#: over locomo_dev and longmemeval_dev; speaker and named are constant where no question names a
#: speaker (LongMemEval), so their weights order LoCoMo alone and were set on it (2 and 3; the
#: fit's 0.86 and 1.25 give 0.741 against 0.756); the bias puts ANSWERABLE_THRESHOLD at the mean
#: of each set's best balanced-accuracy threshold (see ARCHITECTURE.md, Scores)
CONF_BIAS = -3.06
CONF_WEIGHTS: Mapping[str, float] = {
    "top_sim": 1.46,
    "coverage": 1.05,
    "margin": -0.37,
    "speaker": 2.0,
    "named": 3.0,
}
#: a result is ``answerable`` when its confidence reaches this
ANSWERABLE_THRESHOLD = 0.5

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_STOP_WORDS = (
    "a an the of in on at to for with by from and or is are was were be been being do does did "
    "what when where who whom whose which why how that this these those it its his her their my "
    "your our has have had not no yes would could should will can may might i me you he she we "
    "they them him us any some about into than then there here also just ever many much more "
    "most last first after before during since ago now currently still tell know remember "
    "mentioned said say kind type"
)
_STOP = frozenset(_STOP_WORDS.split())

HasRelevance = PassageHit | EpisodeHit | FactHit | EntityHit | HyperedgeHit


def calibrate(sim: float) -> float:
    """The fitted logistic of a cosine similarity: the relevance before the running minimum."""
    return 1.0 / (1.0 + math.exp(-SIM_SLOPE * (sim - SIM_MIDPOINT)))


def non_increasing(values: Iterable[float]) -> list[float]:
    """The running minimum of ``values``: each at most the one before it."""
    out: list[float] = []
    for v in values:
        out.append(min(v, out[-1]) if out else v)
    return out


def content_words(text: str) -> list[str]:
    """The words of ``text`` a match should find: folded, no stop words, a plural "s" dropped."""
    return list(_content_words(text))


#: texts whose content words are kept: a search reads those of its top turns, several times
#: (confidence, restatements), and the next question of the history reads many of them again
CONTENT_WORDS_CACHE = 8192


@lru_cache(maxsize=CONTENT_WORDS_CACHE)
def _content_words(text: str) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for w in _WORD.findall(text.casefold()):
        if w in _STOP or len(w) < 2:
            continue
        out[w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w] = None
    return tuple(out)


@dataclass(frozen=True)
class Features:
    """What the confidence of a result is computed from (see the module docstring)."""

    top_sim: float
    coverage: float
    margin: float
    speaker: float = 1.0
    named: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "top_sim": self.top_sim,
            "coverage": self.coverage,
            "margin": self.margin,
            "speaker": self.speaker,
            "named": self.named,
        }


def features(
    question: str,
    sims: Sequence[float],
    texts: Sequence[str],
    speakers: Sequence[str | None] = (),
) -> Features:
    """The confidence features of the top hits: their cosines ``sims`` (best relevance first),
    ``texts`` and ``speakers`` (None for a passage); no hit gives all zeros."""
    if not sims:
        return Features(0.0, 0.0, 0.0, 0.0)
    sims, texts = list(sims)[:TOP_HITS], list(texts)[:TOP_HITS]
    words = content_words(question)
    found = [set(_content_words(t)) for t in texts]  # each text's words, read once
    seen = set().union(*found)
    coverage = sum(w in seen for w in words) / len(words) if words else 0.0
    top = max(sims)
    asked = {w.casefold() for w in _WORD.findall(question)}
    said = [(s or "").casefold() for s in list(speakers)[:TOP_HITS]]
    named = {s for s in said if s and s in asked}
    speaker = sum(s in named for s in said) / len(said) if named else 1.0
    return Features(
        top_sim=top,
        coverage=coverage,
        margin=top - sims[-1],
        speaker=speaker,
        named=_named_lead([w for w in words if w not in named], found, said, named),
    )


def _named_lead(
    words: Sequence[str], found: Sequence[set[str]], said: Sequence[str], named: set[str]
) -> float:
    """The best coverage of ``words`` by one turn (its content words ``found``) of a ``named``
    speaker, minus that of one turn of anyone else (0 when no one is named or nothing is left
    to cover)."""
    if not named or not words:
        return 0.0
    best = {True: 0.0, False: 0.0}
    for has, who in zip(found, said, strict=False):
        share = sum(w in has for w in words) / len(words)
        best[who in named] = max(best[who in named], share)
    return best[True] - best[False]


def confidence(f: Features) -> float:
    """The fitted logistic of the features, in [0, 1]."""
    z = CONF_BIAS + sum(CONF_WEIGHTS[name] * value for name, value in f.as_dict().items())
    return 1.0 / (1.0 + math.exp(-z))


def similarities(
    store: Store,
    embedder: Embedder,
    question: Vector,
    nodes: Sequence[AnyNode],
    known: Mapping[str, float] | None = None,
) -> list[float]:
    """The cosine of each node's embedding (the store's, else embedded here) to ``question``;
    ``known``: cosines a retrieval already computed, by node id (not read again)."""
    known = known or {}
    keys = {embed_key(n): embed_text(n) for n in nodes if n.id not in known}
    found = dict(store.cached_vectors(embedder.name, list(keys))) if keys else {}
    missing = [k for k in keys if k not in found]
    if missing:
        fresh = embedder.embed([keys[k] for k in missing], kind="passage")
        found.update(zip(missing, fresh, strict=True))
    q = np.asarray(question, dtype=np.float32).reshape(-1)
    return [
        known[n.id] if n.id in known else float(np.dot(np.asarray(found[embed_key(n)]).ravel(), q))
        for n in nodes
    ]


def _text(hit: Hit) -> str:
    """What the question's words are looked for in: the text, and who said an episode."""
    if isinstance(hit, PassageHit):
        return f"{hit.passage.title or ''} {hit.passage.text}"
    return f"{hit.episode.speaker or ''} {hit.episode.text}"


def score_result(
    result: SearchResult,
    question: Vector,
    store: Store,
    embedder: Embedder,
    known: Mapping[str, float] | None = None,
) -> Features:
    """Set every hit's ``relevance`` and the result's ``confidence`` and ``answerable``; returns
    the features the confidence came from (``known``: as :func:`similarities`)."""
    kinds: list[list[tuple[AnyNode, HasRelevance]]] = [
        [(h.passage, h) for h in result.passages],
        [(h.episode, h) for h in result.episodes],
        [(h.fact, h) for h in result.facts],
        [(h.entity, h) for h in result.entities],
        [(h.hyperedge, h) for h in result.hyperedges],
    ]
    flat = [pair for kind in kinds for pair in kind]
    sims = iter(similarities(store, embedder, question, [n for n, _ in flat], known))
    sim_of: dict[int, float] = {}
    for kind in kinds:
        own = [next(sims) for _ in kind]
        for (_, hit), sim, rel in zip(kind, own, non_increasing(map(calibrate, own)), strict=True):
            hit.relevance = rel
            sim_of[id(hit)] = sim
    top = mixed(result, TOP_HITS)
    f = features(
        result.question,
        [sim_of[id(h)] for h in top],
        [_text(h) for h in top],
        [h.episode.speaker if isinstance(h, EpisodeHit) else None for h in top],
    )
    result.confidence = confidence(f)
    result.answerable = result.confidence >= ANSWERABLE_THRESHOLD
    return f
