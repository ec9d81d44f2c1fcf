"""Episodes end to end: real SQLite file, real MiniLM, real spaCy extractor (and one fast path).

The temporal set (tests/data/temporal_episodes.jsonl) has episodes whose facts change (homes,
employers, owners, a CEO), some out of time order and one duplicate, and checks: for an anchor
entity and a functional class, the answer at a time (``as_of``) or now (``null``).
"""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from graphmem import AsyncMemory, Memory
from graphmem.embed.base import Vectors
from graphmem.embed.local import LocalEmbedder
from graphmem.errors import InputError
from graphmem.ids import entity_id
from graphmem.ingest.episodes import make_episode
from graphmem.models import EpisodeIn
from graphmem.validity import fact_class

DATA = Path(__file__).resolve().parents[2] / "data" / "temporal_episodes.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
EPISODES = [r for r in ROWS if r["type"] == "episode"]
CHECKS = [r for r in ROWS if r["type"] == "check"]
NS = "temporal"


def utc(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def items() -> list[dict[str, Any]]:
    return [{k: r[k] for k in ("session", "time", "speaker", "text")} for r in EPISODES]


@pytest.fixture(scope="module")
def mem(tmp_path_factory: pytest.TempPathFactory, embedder: LocalEmbedder) -> Iterator[Memory]:
    path = tmp_path_factory.mktemp("episodes") / "m.db"
    with Memory(f"sqlite:///{path}", embedder=embedder, extractor="nlp", namespace=NS) as m:
        report = m.add_episodes(items())
        assert report.episodes_added == len(EPISODES) - 1  # one line repeats another
        assert report.episodes_skipped == 1
        yield m


def answer(mem: Memory, anchor: str, cls: str, as_of: str | None) -> list[str]:
    """The other ends of ``anchor``'s facts of class ``cls`` valid then (or current)."""
    eid = entity_id(NS, anchor)
    when = utc(as_of) if as_of else None
    facts = mem.store.facts_between(NS, [eid], as_of=when)
    if when is None:
        facts = [f for f in facts if f.invalid_at is None and f.expired_at is None]
    others = []
    for f in facts:
        found = fact_class(f)
        if found is None or found[0] != cls:
            continue
        anchor_id, other = (f.subject, f.object) if found[1] == "subject" else (f.object, f.subject)
        if anchor_id == eid:
            others.append(other)
    names = mem.store.get_entities(NS, others)
    return sorted(names[o].name for o in others)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: f"{c['anchor']}@{c['as_of'] or 'now'}")
def test_as_of_answers(mem: Memory, check: dict[str, Any]) -> None:
    assert answer(mem, check["anchor"], check["class"], check["as_of"]) == check["answer"]


def test_history_is_kept(mem: Memory) -> None:
    ada = mem.store.facts_between(NS, [entity_id(NS, "Ada")])
    homes = sorted((f.valid_at, f.invalid_at, f.text) for f in ada if fact_class(f))
    assert [t for _, _, t in homes] == [
        "Ada lives in Lisbon",
        "Ada moved to Porto",
        "Ada lives in Berlin",
        "Ada moved to Lisbon",
    ]
    assert all(end is not None for _, end, _ in homes[:-1]) and homes[-1][1] is None
    likes = [f for f in ada if f.predicate == "likes"]
    assert likes and all(f.invalid_at is None for f in likes)


def test_reingest_is_idempotent(mem: Memory) -> None:
    before = mem.stats()
    again = mem.add_episodes(items())
    assert again.episodes_added == 0 and again.episodes_skipped == len(EPISODES)
    assert mem.stats() == before


def test_evidence_speaker_session_and_times(mem: Memory) -> None:
    porto = next(
        h for h in mem.search("Ada moved to Porto", k=3).episodes if "Porto" in h.episode.text
    )
    ep = porto.episode
    assert ep.text == "Ada: Big news: I moved to Porto last week."
    assert ep.metadata["times"] == [["last week", "2020-08-25T18:30:00+00:00"]]
    edges = mem.store.edges_of(NS, [ep.id], ["EVIDENCE"])
    targets = {e.dst for e in edges if e.src == ep.id}
    facts = mem.store.get_facts(NS, [t for t in targets if t.startswith("f:")])
    assert [f.text for f in facts.values()] == ["Ada moved to Porto"]
    ents = mem.store.get_entities(NS, [t for t in targets if t.startswith("e:")])
    kinds = {e.name: e.type for e in ents.values()}
    assert kinds["Ada"] == "PERSON" and kinds["session ada-2"] == "SESSION" and "Porto" in kinds


def test_next_chains_by_time_not_by_arrival(mem: Memory) -> None:
    # carl-1 arrived Bergen (June) first, then Oslo (March)
    res = mem.search("Carl lives in Oslo", k=5, include=["episodes", "context"])
    oslo = next(h for h in res.episodes if "Oslo" in h.episode.text)
    edges = [e for e in mem.store.edges_of(NS, [oslo.episode.id], ["NEXT"])]
    assert len(edges) == 1 and edges[0].src == oslo.episode.id
    bergen = mem.store.get_episodes(NS, [edges[0].dst])[edges[0].dst]
    assert "Bergen" in bergen.text and bergen.time > oslo.episode.time
    assert [c.id for c in oslo.context] == [bergen.id]


def test_search_as_of_and_between(mem: Memory) -> None:
    when = datetime(2020, 12, 1, tzinfo=UTC)
    res = mem.search("Where does Ada live?", k=5, as_of=when, include=["episodes", "facts"])
    assert res.episodes and all(h.episode.time <= when for h in res.episodes)
    texts = [h.episode.text for h in res.episodes]
    porto, lisbon = (
        next(i for i, t in enumerate(texts) if city in t) for city in ("Porto", "Lisbon")
    )
    assert porto < lisbon  # the home then ranks above the home it replaced
    assert all(f.fact.valid_at is None or f.fact.valid_at <= when for f in res.facts)
    assert all(f.fact.invalid_at is None or f.fact.invalid_at > when for f in res.facts)
    now = mem.search("Where does Ada live?", k=8, include=["episodes", "facts"])
    texts = [h.episode.text for h in now.episodes]
    newest = next(i for i, t in enumerate(texts) if "Lisbon again" in t)
    assert all(
        newest < i for i, t in enumerate(texts) if "Porto" in t or "Berlin" in t or "river" in t
    )
    assert "Ada moved to Lisbon" in {f.fact.text for f in now.facts}
    start, end = datetime(2021, 1, 1, tzinfo=UTC), datetime(2021, 12, 31, tzinfo=UTC)
    span = mem.search("Where does Ada live?", k=5, between=(start, end), include=["episodes"])
    assert span.episodes and all(start <= h.episode.time <= end for h in span.episodes)


def test_the_facts_of_an_episodic_result_are_its_episodes_evidence_as_hits_of_their_own(
    mem: Memory,
) -> None:
    # The facts are read once for the ranking and made into hits twice: the result's own (which
    # get a relevance) and each episode's evidence (which do not).
    res = mem.search("Where does Ada live?", k=5, include=["episodes", "facts"])
    evidence = [f for h in res.episodes for f in h.facts]
    assert res.mode == "episodic" and res.facts and evidence
    assert {f.fact.id for f in evidence} <= {f.fact.id for f in res.facts}
    assert not {id(f) for f in evidence} & {id(f) for f in res.facts}
    names = {f.fact.id: (f.subject_name, f.object_name) for f in res.facts}
    assert all(names[f.fact.id] == (f.subject_name, f.object_name) for f in evidence)
    assert all(not n.startswith("e:") for pair in names.values() for n in pair)
    assert all(f.relevance > 0 for f in res.facts) and all(f.relevance == 0 for f in evidence)


@pytest.mark.parametrize(
    ("time", "field", "message"),
    [
        (None, "time", "has no time"),
        ("", "time", "has no time"),
        ("not a date at all", "time", "cannot read"),
        ("yesterday", "time", "cannot read"),
        (12, "time", "must be a datetime or a string"),
    ],
)
def test_bad_times_are_clear_errors(mem: Memory, time: object, field: str, message: str) -> None:
    before = mem.stats()
    with pytest.raises(InputError) as err:
        mem.add_episodes([{"text": "ok", "time": "2024-01-01"}, {"text": "hi", "time": time}])
    assert err.value.field == field and message in str(err.value) and "episode 1" in str(err.value)
    assert mem.stats() == before  # validation happens before the batch is written


def test_bad_episode_fields(mem: Memory) -> None:
    with pytest.raises(InputError, match="empty text"):
        mem.add_episode("   ", time="2024-01-01")
    with pytest.raises(InputError) as err:
        mem.add_episodes([{"text": "x", "time": "2024-01-01", "mood": "happy"}])
    assert err.value.field == "mood"


def test_late_episode_links_both_neighbours(tmp_path: Path, embedder: LocalEmbedder) -> None:
    rows = {
        w: {"text": w, "time": f"2024-01-01T{h}:00", "session": "s"}
        for w, h in (("first", 10), ("second", 11), ("third", 12))
    }
    ids = {w: make_episode("default", EpisodeIn(**r)).id for w, r in rows.items()}
    with Memory(f"sqlite:///{tmp_path / 'l.db'}", embedder=embedder, extractor=None) as m:
        m.add_episodes([rows["first"], rows["third"]])
        m.add_episode("second", time="2024-01-01T11:00", session="s")
        nxt = {(e.src, e.dst) for e in m.store.edges_of("default", list(ids.values()), ["NEXT"])}
    # the new episode sits between its neighbours; their old link stays (edges are not deleted)
    assert nxt == {
        (ids["first"], ids["second"]),
        (ids["second"], ids["third"]),
        (ids["first"], ids["third"]),
    }


class HashEmbedder:
    """A fast deterministic bag-of-words embedder: the 10,000-turn test measures ingest, not MiniLM."""

    name, dim = "hash-64", 64

    def embed(self, texts: Sequence[str], *, kind: str = "passage") -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, hash(word) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


def test_ten_thousand_turns_stream_with_progress_and_bounded_memory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    n = 10_000
    pulled = 0

    start = datetime(2024, 1, 1, tzinfo=UTC)

    def turn(i: int) -> dict[str, Any]:
        return {
            "text": f"turn {i} about topic {i % 97}",
            "time": start + timedelta(seconds=i),
            "speaker": "AB"[i % 2],
            "session": "long",
        }

    def turns() -> Iterator[dict[str, Any]]:
        nonlocal pulled
        for i in range(n):
            pulled += 1
            yield turn(i)

    seen: list[int] = []
    with Memory(f"sqlite:///{tmp_path / 'big.db'}", embedder=HashEmbedder(), extractor=None) as m:  # type: ignore[arg-type]
        tracemalloc.start()
        report = m.add_episodes(
            turns(), batch_size=256, progress=True, on_progress=lambda k: seen.append(pulled)
        )
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert report.episodes_added == n
        assert m.stats().episodes == n
        # the generator is read batch by batch, never all at once
        assert seen[0] <= 256 + 1 and len(seen) == n // 256 + 1
        assert peak < 150 * 2**20, f"peak traced memory {peak / 2**20:.0f} MB"
        middle = make_episode("default", EpisodeIn(**turn(5000))).id
        nxt = m.store.edges_of("default", [middle], ["NEXT"])
        before = make_episode("default", EpisodeIn(**turn(4999))).id
        after = make_episode("default", EpisodeIn(**turn(5001))).id
        assert {(e.src, e.dst) for e in nxt} == {(before, middle), (middle, after)}
    assert "episodes" in capsys.readouterr().err


def test_timed_documents_follow_the_rule_and_search_as_of(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    with Memory(f"sqlite:///{tmp_path / 'd.db'}", embedder=embedder, extractor="nlp") as m:
        m.add("Ada Lovelace lives in Lisbon.", source="a", time=datetime(2020, 1, 1, tzinfo=UTC))
        m.add("Ada Lovelace moved to Porto.", source="b", time=datetime(2021, 1, 1, tzinfo=UTC))
        m.add("Ada Lovelace likes jazz.", source="c")  # no time: never ends anything
        then = m.search(
            "Where does Ada Lovelace live?", k=3, as_of=datetime(2020, 6, 1, tzinfo=UTC)
        )
        assert {f.fact.text for f in then.facts} & {"Ada Lovelace lives in Lisbon"}
        assert "Ada Lovelace moved to Porto" not in {f.fact.text for f in then.facts}
        now = m.search("Where does Ada Lovelace live?", k=3)
        assert now.passages and {h.passage.text for h in now.passages} >= {
            "Ada Lovelace moved to Porto."
        }
        lisbon = next(
            f
            for f in m.store.facts_between("default", [entity_id("default", "Ada Lovelace")])
            if f.text == "Ada Lovelace lives in Lisbon"
        )
        assert lisbon.invalid_at == datetime(2021, 1, 1, tzinfo=UTC)


def test_notes_are_memory_units_found_by_search(tmp_path: Path, embedder: LocalEmbedder) -> None:
    with Memory(f"sqlite:///{tmp_path / 'n.db'}", embedder=embedder, extractor="nlp") as m:
        m.add_episode("I booked the cabin for the ski trip.", time="2024-02-01", speaker="Ada")
        note = m.add_note("Ada, Bob and Carol share the ski trip to Zermatt.")
        assert note.kind == "note" and len(note.members) >= 3
        again = m.add_note("Ada, Bob and Carol share the ski trip to Zermatt.")
        assert again.id == note.id and m.stats().hyperedges == 1
        res = m.search("Who goes on the ski trip?", k=3)
        assert res.hyperedges and res.hyperedges[0].hyperedge.id == note.id
        assert res.episodes and "cabin" in res.episodes[0].episode.text


def test_async_twins(tmp_path: Path, embedder: LocalEmbedder) -> None:
    async def main() -> tuple[int, str]:
        async with AsyncMemory(
            f"sqlite:///{tmp_path / 'a.db'}", embedder=embedder, extractor=None
        ) as m:
            one = await m.add_episode(
                "I adopted a cat named Miso.", time="2024-05-01", speaker="Ada"
            )
            many = await m.add_episodes([{"text": "Miso likes boxes.", "time": "2024-05-02"}])
            res = await m.search("What is the cat called?", k=1, include=["episodes"])
            got = await m.get_episode(res.episodes[0].episode.id)
            assert got is not None
            return one.episodes_added + many.episodes_added, got.text

    added, text = asyncio.run(main())
    assert added == 2 and "Miso" in text


def test_sessions_are_never_synonyms(mem: Memory) -> None:
    """Session entities embed alike ("session ada-1", "session ada-2") but are distinct by
    construction: no SYNONYM edge may join a session to anything."""
    sessions = sorted({f"session {r['session']}" for r in EPISODES})
    ids = [entity_id(NS, s) for s in sessions]
    assert all(e.type == "SESSION" for e in mem.store.get_entities(NS, ids).values())
    assert mem.store.edges_of(NS, ids, ["SYNONYM"]) == []
    # the rule, not the embeddings, keeps them apart: some pair is above the synonym threshold
    vecs = mem.embedder.embed(sessions)
    sims = vecs @ vecs.T
    np.fill_diagonal(sims, 0.0)
    assert float(sims.max()) >= 0.8


def test_a_question_about_now_puts_facts_that_still_hold_first(mem: Memory) -> None:
    from graphmem.validity import is_current

    res = mem.search("Where does Ada live?", k=5)
    current = [is_current(h.fact) for h in res.facts]
    assert current and current[0], [h.fact.text for h in res.facts]
    # every ended fact comes after every current one
    assert current == sorted(current, reverse=True)
    texts = [h.fact.text for h in res.facts]
    # her home now ranks above the homes she left (which stay listed, as history)
    ended = [texts.index(t) for t in ("Ada lives in Berlin", "Ada moved to Porto") if t in texts]
    assert "Ada moved to Lisbon" in texts and ended
    assert texts.index("Ada moved to Lisbon") < min(ended)


def test_every_hit_of_a_mixed_store_has_a_relevance_on_one_scale(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    from graphmem.retrieve.relevance import ANSWERABLE_THRESHOLD, mixed

    with Memory(f"sqlite:///{tmp_path / 'r.db'}", embedder=embedder, extractor="nlp") as m:
        m.add("Dana's cat is called Miso. Miso is a grey tabby.", source="pets")
        m.add("Leeds is a city in West Yorkshire.", source="leeds")
        # One session: the small talk is the answer's NEXT neighbour, so the episode ranking
        # (which returns only what its graph reaches once the graph counts fully) returns it too.
        m.add_episode(
            "Of course. Tell me a bit about yourself.",
            time="2024-01-01",
            speaker="assistant",
            session="chat",
        )
        m.add_episode(
            "My cat Miso knocked a glass off the table again.",
            time="2024-01-02",
            speaker="Dana",
            session="chat",
        )
        res = m.search("What is Dana's cat called?", k=4)
        assert res.passages and res.episodes
        kinds: list[Sequence[Any]] = [
            res.passages,
            res.episodes,
            res.facts,
            res.entities,
            res.hyperedges,
        ]
        for hits in kinds:
            values = [h.relevance for h in hits]
            assert all(0.0 <= v <= 1.0 for v in values)
            assert values == sorted(values, reverse=True)
        both = mixed(res)
        assert [h.relevance for h in both] == sorted((h.relevance for h in both), reverse=True)
        # the small talk is below the passage that answers, whatever the rankers' own scales
        small_talk = next(h for h in res.episodes if "yourself" in h.episode.text)
        assert both.index(small_talk) > both.index(res.passages[0])
        assert 0.0 <= res.confidence <= 1.0
        assert res.answerable == (res.confidence >= ANSWERABLE_THRESHOLD)
