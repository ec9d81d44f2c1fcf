"""MemoryBank's curve over a store (issue 22): strength falls with time, rises with repetition
and with recalls; forget policies pick the weakest, ties by id, and record why."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from graphmem.errors import InputError
from graphmem.ids import entity_id, episode_id, fact_id
from graphmem.lifecycle.forget import forget, parse_policy, restore
from graphmem.lifecycle.strength import StrengthSettings, retention, weigh
from graphmem.models import Edge, Entity, Episode, Fact
from graphmem.store.base import WriteBatch
from graphmem.store.sqlite import SQLiteStore

NS = "s"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=60)


def _episode(day: int, text: str) -> Episode:
    when = T0 + timedelta(days=day)
    return Episode(
        id=episode_id(NS, "c", when.isoformat(), None, text), namespace=NS, text=text, time=when
    )


def _fact(s: str, p: str, o: str) -> Fact:
    return Fact(
        id=fact_id(NS, s, p, o), namespace=NS, subject=entity_id(NS, s), predicate=p,
        object=entity_id(NS, o), text=f"{s} {p} {o}", created_at=T0,
    )  # fmt: skip


@pytest.fixture
def store() -> Iterator[SQLiteStore]:
    """Three turns: day 0 and day 30 both say Ada likes jazz; day 50 says Ben likes tea."""
    s = SQLiteStore(":memory:")
    jazz, tea = _fact("Ada", "likes", "jazz"), _fact("Ben", "likes", "tea")
    e0, e30, e50 = _episode(0, "I like jazz"), _episode(30, "Jazz again!"), _episode(50, "Tea.")
    ents = [Entity(id=entity_id(NS, n), namespace=NS, name=n, normalized=n.lower())
            for n in ("Ada", "jazz", "Ben", "tea")]  # fmt: skip
    edges = [
        Edge(type="EVIDENCE", src=e.id, dst=f.id, namespace=NS)
        for e, f in ((e0, jazz), (e30, jazz), (e50, tea))
    ]
    s.write(WriteBatch(NS, entities=ents, facts=[jazz, tea], episodes=[e0, e30, e50], edges=edges))
    yield s
    s.close()


def test_retention_is_memorybanks_curve() -> None:
    assert retention(0, 30) == 1.0
    assert retention(30, 30) == pytest.approx(math.exp(-1))
    assert retention(30, 60) > retention(30, 30) > retention(60, 30)
    assert retention(-5, 30) == 1.0  # a memory from the future has not decayed


def test_repetition_and_recency_raise_strength(store: SQLiteStore) -> None:
    w = weigh(store, NS, StrengthSettings(stability_days=30), now=NOW)
    jazz, tea = fact_id(NS, "Ada", "likes", "jazz"), fact_id(NS, "Ben", "likes", "tea")
    # jazz: stated twice (S = 60 days), last on day 30 -> 30 days old; tea: once, 10 days old
    assert w[jazz].repetitions == 1 and w[tea].repetitions == 0
    assert w[jazz].last_reinforced == T0 + timedelta(days=30)
    assert w[jazz].strength == pytest.approx(math.exp(-30 / 60))
    assert w[tea].strength == pytest.approx(math.exp(-10 / 30))
    eps = sorted((x for x in w.values() if x.kind == "episode"), key=lambda x: x.last_reinforced)
    # the day-0 turn is reinforced by its fact's repetition and by the fact it states:
    # S = 30 * (1 + 1 + 1) days, 60 days old
    assert [x.repetitions for x in eps] == [1, 1, 0] and [x.facts for x in eps] == [1, 1, 1]
    assert eps[0].strength == pytest.approx(math.exp(-60 / 90))
    assert eps[2].strength == pytest.approx(math.exp(-10 / 60))
    plain = weigh(store, NS, StrengthSettings(stability_days=30, content_weight=0), now=NOW)
    assert plain[eps[0].id].strength == pytest.approx(math.exp(-60 / 60))  # MemoryBank's own
    # the log form orders memories whose retention underflows
    far = weigh(store, NS, StrengthSettings(stability_days=0.01), now=NOW + timedelta(days=3650))
    assert far[tea].strength == 0.0 and far[jazz].log_strength > far[tea].log_strength


def test_a_recall_reinforces(store: SQLiteStore) -> None:
    tea = fact_id(NS, "Ben", "likes", "tea")
    before = weigh(store, NS, StrengthSettings(), now=NOW)[tea]
    store.record_recalls(NS, [tea], T0 + timedelta(days=55))
    after = weigh(store, NS, StrengthSettings(), now=NOW)[tea]
    assert after.recalls == 1 and after.last_reinforced == T0 + timedelta(days=55)
    assert after.strength == pytest.approx(math.exp(-5 / 60)) and after.strength > before.strength


def test_policies_archive_the_weakest_and_say_why(store: SQLiteStore) -> None:
    settings = StrengthSettings(stability_days=30)
    dry = forget(store, NS, "quota:1", settings, now=NOW, dry_run=True)
    assert dry.considered == 5 and dry.archived == {"fact": 1, "episode": 2}
    assert store.ids_in_state(NS, "archived") == []
    half = forget(store, NS, "quota:50%", settings, now=NOW, dry_run=True)
    assert half.archived == {"fact": 1, "episode": 1}  # round(0.5 * 3) = 2 episodes kept
    w = weigh(store, NS, settings, now=NOW)
    cut = sorted(w.values(), key=lambda x: x.strength)[2].strength
    by_strength = forget(store, NS, f"strength:{cut}", settings, now=NOW)
    assert set(by_strength.ids) == {i for i, x in w.items() if x.strength < cut}
    events = store.lifecycle_events(NS, by_strength.ids)
    for i in by_strength.ids:
        [e] = events[i]
        assert e.actor == f"forget:strength:{cut}" and "below" in (e.reason or "")
        assert e.data["strength"] == pytest.approx(w[i].strength)
    # archived nodes are not weighed again
    again = forget(store, NS, "quota:0", settings, now=NOW)
    assert not set(again.ids) & set(by_strength.ids)
    assert restore(store, NS, all_archived=True).restored == 5


@pytest.mark.parametrize("policy", ["", "quota", "quota:x", "quota:150%", "strength:-1", "age:1"])
def test_bad_policies(policy: str) -> None:
    with pytest.raises(InputError, match="forget policy"):
        parse_policy(policy)


def test_the_strength_prior_reorders_episodes_only_when_set(store: SQLiteStore) -> None:
    from types import SimpleNamespace

    from graphmem.lifecycle.visible import _strength_prior
    from graphmem.models import EpisodeHit, SearchResult

    eps = store.get_episodes(NS, store.list_ids(NS, "episode"))
    weighed = weigh(store, NS, StrengthSettings())  # at the wall clock, as search weighs
    strongest = max(eps, key=lambda i: weighed[i].log_strength)
    # ranked weakest first, so the prior has something to move
    ranked = sorted(eps.values(), key=lambda e: weighed[e.id].log_strength)
    result = SearchResult(
        question="q",
        episodes=[EpisodeHit(episode=e, score=1.0 - i / 10) for i, e in enumerate(ranked)],
    )
    searcher = SimpleNamespace(store=store)
    light = result.model_copy(deep=True)
    _strength_prior(searcher, NS, light, StrengthSettings(prior_weight=0.1))  # type: ignore[arg-type]
    assert [h.episode.id for h in light.episodes] == [e.id for e in ranked]
    heavy = result.model_copy(deep=True)
    _strength_prior(searcher, NS, heavy, StrengthSettings(prior_weight=0.9))  # type: ignore[arg-type]
    assert ranked[0].id != strongest and heavy.episodes[0].episode.id == strongest


def test_search_takes_include_as_a_word_or_a_generator(store: SQLiteStore) -> None:
    # one word is one unit (not its letters); a generator is read once, for every run
    from graphmem.lifecycle.visible import search
    from graphmem.retrieve.search import Searcher

    class Flat:
        model = "flat"
        dim = 4

        def embed(self, texts: list[str], kind: str = "passage") -> object:
            import numpy as np

            return np.ones((len(texts), 4), dtype=np.float32)

    searcher = Searcher(store, Flat(), namespace=NS)  # type: ignore[arg-type]
    word = search(searcher, "jazz", StrengthSettings(), include="episodes")
    gen = search(searcher, "jazz", StrengthSettings(), include=(u for u in ["episodes"]))
    assert word.passages == gen.passages == [] and word.model_dump(exclude={"timings_ms"}) == (
        gen.model_dump(exclude={"timings_ms"})
    )
