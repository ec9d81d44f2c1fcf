"""The one search path: validate, embed once, route, run the retrievers, fuse, format.

``Memory.search``, ``Memory.explain`` (:mod:`graphmem.viz.explain`) and the GraphQL API (through
``Memory.search``) all come here. :meth:`Searcher.search` is a thin wrapper:
:func:`check_query` validates, :meth:`Searcher.run` embeds the question once, ``_retrieve`` routes
by what the namespace holds and runs the retrievers (one :class:`~graphmem.retrieve.base.Request`
in, one :class:`~graphmem.retrieve.base.Retrieval` out each), and ``_format`` builds the
:class:`~graphmem.models.SearchResult` through :mod:`graphmem.retrieve.results`. :meth:`Searcher.run` also
returns the raw retrieval (seeds, PageRank scores) that an explanation draws.

>>> check_query("Who?", k=3, namespace="default").units == DEFAULT_UNITS
True
>>> check_query(" ", k=3, namespace="default")
Traceback (most recent call last):
graphmem.errors.InputError: field 'question': the question is empty
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime

from graphmem.embed.base import Embedder
from graphmem.errors import InputError
from graphmem.ids import HYPEREDGE, check_namespace, is_kind
from graphmem.models import SearchResult
from graphmem.retrieve.base import Between, Request, Retrieval
from graphmem.retrieve.episodes import EpisodeRetrieval, EpisodeRetriever, EpisodeSearchSettings
from graphmem.retrieve.hyperedges import retrieve_units
from graphmem.retrieve.limits import MAX_K, MAX_QUESTION_CHARS
from graphmem.retrieve.passages import (
    Namer,
    PassageRetriever,
    PassageSearchSettings,
    Recognizer,
    lexical_hits,
)
from graphmem.retrieve.relevance import score_result
from graphmem.retrieve.results import episode_hits, fact_hits, format_result, order_facts, unit_hits
from graphmem.store.base import Store

__all__ = [
    "DEFAULT_UNITS",
    "MAX_K",
    "MAX_QUESTION_CHARS",
    "UNITS",
    "UNIT_CANDIDATES",
    "Between",
    "Query",
    "Retrieved",
    "Searched",
    "Searcher",
    "check_query",
]

#: hyperedges taken from the PageRank walk before fusing with their dense ranking
UNIT_CANDIDATES = 200
#: what ``search(include=...)`` may ask for
UNITS = ("passages", "facts", "entities", "episodes", "hyperedges", "context")
#: what a search returns unless asked otherwise: all but "context" (each episode's neighbours)
DEFAULT_UNITS = frozenset(UNITS) - {"context"}


Names = Callable[[], list[str]]
Hits = Callable[[], list[tuple[str, float]]]
_PREFETCH: ThreadPoolExecutor | None = None
_PREFETCH_LOCK = threading.Lock()


def _prefetch_pool() -> ThreadPoolExecutor:
    """The threads that name a question's entities and run its BM25 search while it is
    embedded (made on the first search; SQLite, the embedder and a server's client wait outside
    the GIL, so the three overlap)."""
    global _PREFETCH
    with _PREFETCH_LOCK:
        if _PREFETCH is None:
            _PREFETCH = ThreadPoolExecutor(max_workers=4, thread_name_prefix="graphmem-prefetch")
        return _PREFETCH


@dataclass(frozen=True)
class Query:
    """A validated search request (what :func:`check_query` returns)."""

    question: str
    k: int
    namespace: str
    as_of: datetime | None = None
    between: Between | None = None
    units: frozenset[str] = DEFAULT_UNITS


def check_query(
    question: str,
    *,
    k: int,
    namespace: str,
    as_of: datetime | None = None,
    between: Between | None = None,
    include: Iterable[str] | None = None,
) -> Query:
    """The request, checked: a non-empty question of at most :data:`MAX_QUESTION_CHARS`, ``1 <= k
    <= MAX_K``, a valid namespace, known units, ``between`` a pair; else :class:`InputError`."""
    if not isinstance(question, str) or not question.strip():
        raise InputError("the question is empty", field="question")
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(
            f"the question is {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}",
            field="question",
        )
    if not 1 <= k <= MAX_K:
        raise InputError(f"k must be between 1 and {MAX_K}, got {k}", field="k")
    try:
        ns = check_namespace(namespace)
    except ValueError as exc:
        raise InputError(str(exc), field="namespace") from exc
    units = _units(include)
    if between is not None and (not isinstance(between, tuple) or len(between) != 2):
        raise InputError("between must be a (start, end) pair", field="between")
    return Query(question, k, ns, as_of, between, units)


def _units(include: Iterable[str] | None) -> frozenset[str]:
    if include is None:
        return DEFAULT_UNITS
    if isinstance(include, str):
        include = [include]
    units = frozenset(include)
    unknown = units - set(UNITS)
    if unknown:
        raise InputError(
            f"unknown units {sorted(unknown)}: use some of {list(UNITS)}", field="include"
        )
    return units


@dataclass
class Retrieved:
    """One search's raw retrieval: what each retriever found, by id."""

    request: Request
    #: the passage walk (empty, mode "episodic", when the namespace holds only episodes)
    passages: Retrieval
    episodes: EpisodeRetrieval | None = None
    units: Retrieval | None = None
    #: the passage walk found passages (else the facts come from the episodic walk)
    has_passages: bool = True


@dataclass(frozen=True)
class Searched:
    """A search's result and the raw retrieval behind it (an explanation draws the walk)."""

    result: SearchResult
    retrieved: Retrieved


@dataclass(frozen=True)
class Searcher:
    """The search core over one store and embedder, with the retrievers' settings."""

    store: Store
    embedder: Embedder
    passage_search: PassageSearchSettings = field(default_factory=PassageSearchSettings)
    episode_search: EpisodeSearchSettings = field(default_factory=EpisodeSearchSettings)
    #: names the entities of a question (an LLM extractor's ``question_entities``), if any
    namer: Namer | None = None
    #: keeps the matched facts that bear on a question, when ``passage_search.llm_recognition`` is on
    recognizer: Recognizer | None = None
    #: the namespace searched when none is given
    namespace: str = "default"

    def search(
        self,
        question: str,
        *,
        k: int = 5,
        namespace: str | None = None,
        as_of: datetime | None = None,
        between: Between | None = None,
        include: Iterable[str] | None = None,
    ) -> SearchResult:
        """Passages and episodes answering ``question``, with the facts that led to them."""
        return self.run(
            question, k=k, namespace=namespace, as_of=as_of, between=between, include=include
        ).result

    def run(
        self,
        question: str,
        *,
        k: int = 5,
        namespace: str | None = None,
        as_of: datetime | None = None,
        between: Between | None = None,
        include: Iterable[str] | None = None,
    ) -> Searched:
        """:meth:`search`, keeping the raw retrieval next to the result."""
        ns = self.namespace if namespace is None else namespace
        query = check_query(
            question, k=k, namespace=ns, as_of=as_of, between=between, include=include
        )
        t0 = time.perf_counter()
        names, lexical = self._prefetch(query)
        vector = self.embedder.embed([query.question], kind="query")[0]
        t1 = time.perf_counter()
        request = Request(
            self.store,
            query.namespace,
            query.question,
            vector,
            query.k,
            query.as_of,
            query.between,
            query.units,
            names=names,
            lexical=lexical,
        )
        found = self._retrieve(request)
        t2 = time.perf_counter()
        result = _format(found)
        score_result(result, vector, self.store, self.embedder, _cosines(found))
        t3 = time.perf_counter()
        result.timings_ms = {
            "embed": (t1 - t0) * 1e3,
            "retrieve": (t2 - t1) * 1e3,
            "format": (t3 - t2) * 1e3,
        }
        return Searched(result, found)

    def _prefetch(self, query: Query) -> tuple[Names | None, Hits | None]:
        """Start what needs only the question's text, the namer and the BM25 search, so they
        overlap the embedding (each None when the passage walk will not use it)."""
        if not query.units & {"passages", "facts", "entities"}:
            return None, None
        pool, s = _prefetch_pool(), self.passage_search
        names = None
        if self.namer is not None and s.named_weight > 0:
            names = pool.submit(self.namer, query.question).result
        lexical = None
        if s.bm25_weight > 0:
            lexical = pool.submit(
                lexical_hits, self.store, query.namespace, query.question, query.k, s
            ).result
        return names, lexical

    def _retrieve(self, request: Request) -> Retrieved:
        """Route by what the namespace holds and run the retrievers that apply."""
        r, store, units = request, request.store, request.units
        want_passages = bool(units & {"passages", "facts", "entities"})
        want_episodes = bool(units & {"episodes", "context"})
        has_episodes = want_episodes and bool(
            store.vector_search(r.namespace, "episode", r.vector, 1)[0]
        )
        # The passage walk runs unless the namespace holds only episodes (then the episodic
        # walk covers its facts); asking whether passages exist costs a query only then.
        has_passages = want_passages and (
            not has_episodes or bool(store.vector_search(r.namespace, "passage", r.vector, 1)[0])
        )
        if has_passages or not want_episodes:
            passages = PassageRetriever(self.passage_search, self.namer, self.recognizer)(r)
            has_passages = has_passages and bool(passages.dense)
        else:
            passages = Retrieval([], {}, [], {}, mode="episodic")
        episodes = EpisodeRetriever(self.episode_search)(r) if has_episodes else None
        found = Retrieved(r, passages, episodes, has_passages=has_passages)
        if "hyperedges" in units:
            found.units = retrieve_units(replace(r, walked=_walked_units(passages, episodes)))
        return found


def _walked_units(passages: Retrieval, episodes: EpisodeRetrieval | None) -> dict[str, float]:
    """Summed PageRank scores of the units the walks reached (a few hundred, not every node)."""
    scores = dict(passages.top(HYPEREDGE, UNIT_CANDIDATES))
    if episodes is not None:
        for nid, s in episodes.node_scores.items():
            if is_kind(nid, HYPEREDGE):
                scores[nid] = scores.get(nid, 0.0) + s
    return scores


def _cosines(found: Retrieved) -> dict[str, float]:
    """The question's cosines the retrievers already computed (dense candidates, and the facts
    the episode search matched), so scoring the hits does not read their vectors again."""
    known = dict(found.passages.dense)
    if found.episodes is not None:
        known.update(found.episodes.dense)
        known.update(found.episodes.facts)
    return known


def _format(found: Retrieved) -> SearchResult:
    """The result of a search, unit by unit (see :mod:`graphmem.retrieve.results`)."""
    r = found.request
    store, ns, units = r.store, r.namespace, r.units
    result = format_result(store, ns, r.question, found.passages)
    if found.episodes is not None:
        ep = found.episodes
        evidence = fact_hits(store, ns, ep.facts, ep.fact_rows)
        result.episodes = episode_hits(store, ns, ep, "context" in units, evidence)
        if not found.has_passages:
            # copies: the top-level hits get a relevance, the episodes' evidence does not
            result.facts = result.facts or [h.model_copy() for h in evidence]
            result.mode = "episodic"
    if found.units is not None:
        result.hyperedges = unit_hits(store, ns, found.units)
    # a question about now: facts that still hold first (the others stay, as history); facts about
    # the entity the question names before facts that only mention it ("Ada's sister")
    order_facts(r.question, result.facts, now=r.as_of is None and r.between is None)
    for name in ("passages", "facts", "entities"):
        if name not in units:
            setattr(result, name, [])
    return result
