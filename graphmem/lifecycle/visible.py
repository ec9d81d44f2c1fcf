"""Default search without archived and merged nodes (and the strength prior and recalls, when
set).

An archived (or merged) node stays in the store, the graph and its indexes, so walks still pass
through it and ``as_of`` or ``between`` searches (questions about the past) still return it; a
default search only leaves it out of the result. To still return as many hits as a search
without archives would, the search is run again with a larger ``k`` (doubling, up to ``MAX_K``)
while removing archived hits left a list shorter than the plain search's; only such a list is
taken from the wider search (cut to the plain search's length), the others keep the plain
search's order. With nothing archived or merged, the search runs once, as before: restoring
every archived node gives back the very same results.

Hits left out or reordered change what the result's ``confidence`` and each hit's ``relevance``
were computed from, so a result that lost hits or was reordered is scored again. The strength
prior leaves alone the questions whose order comes from what holds when (about now, a window,
or asked ``as_of``/``between``): strength says how likely a memory is to be recalled, not
whether it is still true (the same test as the episode ranking's leads). Recalls
(``reinforce_on_recall``) are access statistics, counted for every caller, read-only API keys
included, as a file system's access time is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from graphmem.lifecycle.strength import StrengthSettings, weigh
from graphmem.models import HIDDEN_STATES as HIDDEN
from graphmem.models import EpisodeHit, FactHit, SearchResult
from graphmem.retrieve.episode_rank import asks_now, named_windows
from graphmem.retrieve.limits import MAX_K
from graphmem.retrieve.relevance import score_result
from graphmem.retrieve.search import Between, Searcher

__all__ = ["search"]

_LISTS = ("passages", "facts", "entities", "hyperedges", "episodes")


def search(
    searcher: Searcher,
    question: str,
    settings: StrengthSettings,
    *,
    k: int = 5,
    namespace: str | None = None,
    as_of: datetime | None = None,
    between: Between | None = None,
    include: Iterable[str] | None = None,
) -> SearchResult:
    """:meth:`Searcher.search`, without the archived nodes unless the question is dated."""
    ns = searcher.namespace if namespace is None else namespace
    if include is not None and not isinstance(include, str):
        include = list(include)  # a generator would be used up by the first of several runs

    def run(size: int) -> SearchResult:
        return searcher.search(
            question, k=size, namespace=ns, as_of=as_of, between=between, include=include
        )

    result = run(k)
    hidden: set[str] = set()
    if as_of is None and between is None:
        for state in HIDDEN:
            hidden.update(searcher.store.ids_in_state(ns, state))
    changed = False
    if hidden:
        before = _shown(result)
        result = _visible(run, result, hidden, k)
        changed = _shown(result) != before
    dated = as_of is not None or between is not None or _holds_led(question)
    if settings.prior_weight > 0 and len(result.episodes) > 1 and not dated:
        before = _shown(result)
        _strength_prior(searcher, ns, result, settings)
        changed = changed or _shown(result) != before
    if changed:
        vector = searcher.embedder.embed([result.question], kind="query")[0]
        score_result(result, vector, searcher.store, searcher.embedder)
    if settings.reinforce_on_recall:
        shown = [h.fact.id for h in result.facts] + [h.episode.id for h in result.episodes]
        if shown:
            searcher.store.record_recalls(ns, shown, datetime.now(UTC))
    return result


def _holds_led(question: str) -> bool:
    """Is the episode order led by what holds then (as :mod:`graphmem.retrieve.current` does)?"""
    return asks_now(question) or bool(named_windows(question, datetime.now(UTC)))


def _shown(result: SearchResult) -> list[str]:
    """The ids of the hits the confidence is computed from, in order."""
    return [h.passage.id for h in result.passages] + [h.episode.id for h in result.episodes]


def _lengths(result: SearchResult) -> dict[str, int]:
    return {name: len(getattr(result, name)) for name in _LISTS}


def _visible(
    run: Callable[[int], SearchResult], first: SearchResult, hidden: set[str], k: int
) -> SearchResult:
    target = _lengths(first)
    out = _drop(first, hidden)
    # Only a list that lost hits is taken from a wider search: the others keep the plain
    # search's order (a wider k may order a list a little differently).
    short = {n for n in _LISTS if len(getattr(out, n)) < target[n]}
    size, raw = k, first
    while short and size < MAX_K:
        size = min(MAX_K, size * 2)
        wider = run(size)
        shown = _drop(wider, hidden)
        for name in sorted(short):
            setattr(out, name, getattr(shown, name)[: target[name]])
            if len(getattr(out, name)) == target[name]:
                short.discard(name)
        if not any(_lengths(wider)[n] > _lengths(raw)[n] for n in short):
            break
        raw = wider
    return out


def _facts(hits: list[FactHit], hidden: set[str]) -> list[FactHit]:
    return [h for h in hits if h.fact.id not in hidden]


def _drop(result: SearchResult, hidden: set[str]) -> SearchResult:
    out = result.model_copy(deep=False)
    out.passages = [
        h.model_copy(update={"facts": _facts(h.facts, hidden)})
        for h in result.passages
        if h.passage.id not in hidden
    ]
    out.facts = _facts(result.facts, hidden)
    out.entities = [h for h in result.entities if h.entity.id not in hidden]
    out.hyperedges = [h for h in result.hyperedges if h.hyperedge.id not in hidden]
    out.episodes = [
        h.model_copy(
            update={
                "facts": _facts(h.facts, hidden),
                "context": [e for e in h.context if e.id not in hidden],
            }
        )
        for h in result.episodes
        if h.episode.id not in hidden
    ]
    return out


def _strength_prior(
    searcher: Searcher, ns: str, result: SearchResult, settings: StrengthSettings
) -> None:
    """Reorder the episode hits by ``(1 - w) * rank part + w * strength part``, each part the
    hit's place in its order scaled to [0, 1] (strengths span too many magnitudes to mix as
    values)."""
    hits: list[EpisodeHit] = result.episodes
    weighed = weigh(searcher.store, ns, settings, ids=[h.episode.id for h in hits])
    n = len(hits)
    by_strength = sorted(
        range(n),
        key=lambda i: (
            weighed[hits[i].episode.id].log_strength
            if hits[i].episode.id in weighed
            else float("-inf")
        ),
    )
    place = {i: r / (n - 1) for r, i in enumerate(by_strength)}
    w = settings.prior_weight
    order = sorted(range(n), key=lambda i: -((1 - w) * (1 - i / (n - 1)) + w * place[i]))
    result.episodes = [hits[i] for i in order]
