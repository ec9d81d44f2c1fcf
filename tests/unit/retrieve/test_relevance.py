"""Scores people can use (graphmem.retrieve.relevance): relevance, confidence, mixed order, AUROC."""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphmem.bench.metrics import auroc
from graphmem.embed.base import Embedder, normalize_rows
from graphmem.models import (
    Entity,
    EntityHit,
    Episode,
    EpisodeHit,
    Fact,
    FactHit,
    Passage,
    PassageHit,
    SearchResult,
)
from graphmem.retrieve import relevance as rel
from graphmem.store.base import Store, embed_key


class WordEmbedder:
    """Bag of hashed words: texts sharing words are close, as a sentence model would say."""

    name, dim = "words", 64

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in rel.content_words(t):
                out[i, zlib.crc32(w.encode()) % self.dim] += 1.0
        return normalize_rows(out)


class VectorCache:
    """The one store call relevance makes: the stored vectors by text hash."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    def cached_vectors(self, model: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        return {k: self.vectors[k] for k in keys if k in self.vectors}


def _result() -> SearchResult:
    def passage(i: int, text: str) -> PassageHit:
        return PassageHit(passage=Passage(id=f"p:{i}", text=text), score=1 / (60 + i))

    def episode(i: int, text: str) -> EpisodeHit:
        ep = Episode(id=f"ep:{i}", text=text, time=datetime(2024, 1, i, tzinfo=UTC), speaker="Dana")
        return EpisodeHit(episode=ep, score=3.0 - i)

    fact = Fact(
        id="f:1",
        subject="e:dana",
        predicate="owns",
        object="e:milo",
        text="Dana owns a cat called Milo",
    )
    return SearchResult(
        question="What is the name of Dana's cat?",
        # the second passage is closer to the question than the first: the ranker's order stays
        passages=[passage(1, "Dana went hiking in Leeds"), passage(2, "Dana's cat is named Milo")],
        episodes=[
            episode(1, "My cat Milo is the name I chose; the cat sleeps all day"),
            episode(2, "Tell me a bit about yourself"),
            episode(3, "I moved to Edinburgh for a new job"),
        ],
        facts=[FactHit(fact=fact, score=0.7, subject_name="Dana", object_name="Milo")],
        entities=[EntityHit(entity=Entity(id="e:milo", name="Milo", normalized="milo"), score=0.2)],
    )


def _score(result: SearchResult, cached: bool = True) -> tuple[rel.Features, WordEmbedder]:
    emb = WordEmbedder()
    nodes: list[Any] = [h.passage for h in result.passages] + [h.episode for h in result.episodes]
    nodes += [h.fact for h in result.facts] + [h.entity for h in result.entities]
    vectors = {}
    if cached:
        texts = [n.text if hasattr(n, "text") else n.name for n in nodes]
        vectors = dict(zip([embed_key(n) for n in nodes], emb.embed(texts), strict=True))
        emb.calls.clear()
    q = emb.embed([result.question], kind="query")[0]
    store = cast(Store, VectorCache(vectors))
    return rel.score_result(result, q, store, cast(Embedder, emb)), emb


def test_relevance_is_in_the_unit_interval_and_non_increasing_down_each_kind() -> None:
    result = _result()
    _score(result)
    kinds: list[list[Any]] = [result.passages, result.episodes, result.facts, result.entities]
    for hits in kinds:
        values = [h.relevance for h in hits]
        assert all(0.0 <= v <= 1.0 for v in values)
        assert values == sorted(values, reverse=True)
    # the running minimum: the better-matching second passage cannot pass the first
    assert result.passages[1].relevance == result.passages[0].relevance
    # the episode that says the answer is above the unrelated small talk, on the same scale
    assert result.episodes[0].relevance > result.episodes[1].relevance
    assert result.facts[0].relevance > result.passages[0].relevance


def test_relevance_uses_stored_vectors_and_embeds_only_the_missing() -> None:
    result = _result()
    _, emb = _score(result, cached=True)
    assert emb.calls == [["What is the name of Dana's cat?"]]
    again = _result()
    _, emb = _score(again, cached=False)
    assert len(emb.calls[-1]) == 7  # every hit embedded once when the store holds none
    assert [h.relevance for h in again.episodes] == [h.relevance for h in result.episodes]


def test_confidence_and_answerable_follow_the_threshold() -> None:
    result = _result()
    f = _score(result)[0]
    assert 0.0 <= result.confidence <= 1.0
    assert result.confidence == pytest.approx(rel.confidence(f))
    assert result.answerable == (result.confidence >= rel.ANSWERABLE_THRESHOLD)
    assert f.coverage == 1.0  # name, cat: both said in the top hits (the speaker counts)
    unrelated = SearchResult(
        question="How long was I in Korea for?",
        episodes=[
            EpisodeHit(
                episode=Episode(
                    id="ep:9",
                    text="I love baking sourdough bread",
                    time=datetime(2024, 1, 1, tzinfo=UTC),
                ),
                score=1.0,
            )
        ],
    )
    _score(unrelated)
    assert unrelated.confidence < result.confidence
    assert not unrelated.answerable
    empty = SearchResult(question="anything")
    assert rel.score_result(
        empty, np.ones(4), cast(Store, VectorCache({})), cast(Embedder, WordEmbedder())
    ) == rel.Features(0.0, 0.0, 0.0, 0.0)
    assert empty.confidence == pytest.approx(rel.confidence(rel.Features(0.0, 0.0, 0.0, 0.0)))
    assert not empty.answerable


@given(st.lists(st.floats(-1, 1), max_size=30))
def test_calibrated_running_minimum(sims: list[float]) -> None:
    out = rel.non_increasing(rel.calibrate(s) for s in sims)
    assert all(0.0 <= v <= 1.0 for v in out)
    assert all(a >= b for a, b in itertools.pairwise(out))
    assert all(v <= rel.calibrate(s) for v, s in zip(out, sims, strict=True))


def test_a_question_about_one_speaker_answered_by_another_loses_confidence() -> None:
    # LoCoMo's adversarial kind: Caroline is asked about the race Melanie ran
    texts = ["I ran a charity race", "the race was great", "I realized self-care matters"]
    mel = rel.features(
        "What did Caroline realize after her race?",
        [0.6, 0.5, 0.5],
        texts,
        ["Melanie", "Caroline", "Melanie"],
    )
    own = rel.features(
        "What did Melanie realize after her race?",
        [0.6, 0.5, 0.5],
        texts,
        ["Melanie", "Caroline", "Melanie"],
    )
    assert mel.speaker == pytest.approx(1 / 3) and own.speaker == pytest.approx(2 / 3)
    unnamed = rel.features("What did she realize?", [0.6], texts[:1], ["Melanie"])
    assert unnamed.speaker == 1.0  # no one named: nothing to disagree with
    assert rel.confidence(mel) < rel.confidence(own)


def test_named_measures_whose_turn_covers_the_question_best() -> None:
    # the question's other words (charity, race) are covered by Melanie's turn, not Caroline's
    texts = ["I ran a charity race", "lunch was nice", "so tired"]
    speakers = ["Melanie", "Caroline", "Melanie"]
    other = rel.features("How was Caroline's charity race?", [0.6] * 3, texts, speakers)
    own = rel.features("How was Melanie's charity race?", [0.6] * 3, texts, speakers)
    assert other.named == pytest.approx(-1.0) and own.named == pytest.approx(1.0)
    nobody = rel.features("How was my charity race?", [0.6] * 3, texts, speakers)
    assert nobody.named == 0.0
    both = rel.features(
        "How was Caroline's charity race?",
        [0.6] * 2,
        ["the charity race went well", "I ran a charity race"],
        ["Caroline", "Melanie"],
    )
    assert both.named == pytest.approx(0.0)  # each covers it as well: no lead either way


def test_confidence_rises_with_each_feature_it_weighs() -> None:
    base = rel.Features(0.4, 0.5, 0.1, 0.5)
    for name, weight in rel.CONF_WEIGHTS.items():
        more = rel.Features(**{**base.as_dict(), name: base.as_dict()[name] + 0.2})
        assert (rel.confidence(more) > rel.confidence(base)) == (weight > 0)


def test_mixed_orders_by_relevance_never_by_alternation() -> None:
    result = _result()
    _score(result)
    hits = rel.mixed(result)
    assert len(hits) == len(result.passages) + len(result.episodes)
    values = [h.relevance for h in hits]
    assert values == sorted(values, reverse=True)
    # each kind keeps its own order inside the mixed list
    assert [h for h in hits if isinstance(h, PassageHit)] == result.passages
    assert [h for h in hits if isinstance(h, EpisodeHit)] == result.episodes
    assert rel.mixed(result, 2) == hits[:2]


def test_auroc_hand_computed() -> None:
    # pairs (p, n): 0.9 beats 0.5, 0.3, 0.3; 0.5 ties 0.5 (half), beats 0.3 twice; 0.2 beats none
    assert auroc([0.9, 0.5, 0.2], [0.5, 0.3, 0.3]) == pytest.approx((3 + 2.5 + 0) / 9)
    assert auroc([1.0], [0.0]) == 1.0
    assert auroc([0.0], [1.0]) == 0.0
    assert auroc([0.4, 0.4], [0.4]) == 0.5
    assert auroc([], [0.1]) is None and auroc([0.1], []) is None


def test_a_conversation_run_reports_the_auroc_of_each_unanswerable_set() -> None:
    from graphmem.bench.conversation import ConversationQuestion
    from graphmem.bench.conversation_result import ConversationRun, unanswerable

    def q(i: int, name: str, **extra: Any) -> ConversationQuestion:
        return ConversationQuestion("c", f"q{i}", "?", None, 1, name, ("D1:1",), i, extra)

    asked = [
        q(1, "single-hop"),
        q(2, "temporal"),
        q(3, "adversarial"),
        q(4, "multi-session", abstention=True),
        q(5, "adversarial"),
    ]
    assert [unanswerable(x) for x in asked] == [
        None,
        None,
        "adversarial",
        "abstention",
        "adversarial",
    ]
    from graphmem.bench.common import METHODS

    run = ConversationRun(
        "d",
        "",
        "",
        [],
        [10],
        {},
        0.0,
        [],
        0.0,
        5,
        0,
        0,
        asked=asked,
        rankings={m: [[] for _ in asked] for m in METHODS},
        confidence=[0.9, 0.4, 0.5, 0.1, 0.2],
    )
    found = run.confidence_auroc()
    # adversarial {0.5, 0.2} against answerable {0.9, 0.4}: 0.9 wins twice, 0.4 once -> 3/4
    assert found["answerable"] == 2
    assert found["adversarial"] == {"n": 2, "auroc": 0.75}
    assert found["abstention"] == {"n": 1, "auroc": 1.0}
    assert run.per_question()[0]["confidence"] == 0.9


def test_the_client_selects_and_parses_relevance_and_confidence() -> None:
    from graphmem.client.core import parse, selection

    query = selection(SearchResult)
    assert (
        "confidence" in query and "answerable" in query and query.count("relevance") == 7
    )  # five kinds, and the facts of passages and episodes
    data = {
        "question": "q",
        "passages": [],
        "facts": [],
        "entities": [],
        "hyperedges": [],
        "mode": "episodic",
        "timingsMs": {},
        "confidence": 0.25,
        "answerable": False,
        "episodes": [
            {
                "episode": {
                    "id": "ep:1",
                    "namespace": "default",
                    "text": "hi",
                    "time": "2024-01-01T00:00:00+00:00",
                    "speaker": None,
                    "session": None,
                    "source": None,
                    "metadata": {},
                },
                "score": 2.0,
                "relevance": 0.4,
                "facts": [],
                "context": [],
            }
        ],
    }
    found = parse(SearchResult, data)
    assert (found.confidence, found.answerable, found.episodes[0].relevance) == (0.25, False, 0.4)


def test_known_cosines_are_not_read_again() -> None:
    """Cosines a retrieval computed stand for the stored vectors: the same relevance, and
    neither the store nor the embedder is asked for those hits."""
    plain = _result()
    features, _ = _score(plain)
    emb = WordEmbedder()
    q = emb.embed([plain.question], kind="query")[0]
    nodes: list[Any] = [h.episode for h in plain.episodes] + [h.fact for h in plain.facts]
    texts = [n.text for n in nodes]
    known = {n.id: float(np.dot(v, q)) for n, v in zip(nodes, emb.embed(texts), strict=True)}
    emb.calls.clear()
    again = _result()
    rel.score_result(again, q, cast(Store, VectorCache({})), cast(Embedder, emb), known)
    # only the passages and the entity, which ``known`` lacks, were embedded
    assert len(emb.calls) == 1 and len(emb.calls[0]) == len(again.passages) + len(again.entities)
    for name in ("passages", "episodes", "facts", "entities"):
        got = [h.relevance for h in getattr(again, name)]
        assert got == pytest.approx([h.relevance for h in getattr(plain, name)], abs=1e-6)
    assert again.confidence == pytest.approx(plain.confidence, abs=1e-6)
    assert features is not None
