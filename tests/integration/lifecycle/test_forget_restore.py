"""Forgetting loses nothing (issue 22): archived facts and episodes leave default search but not
``as_of`` searches, the history or export, and restoring them gives back the same results."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from graphmem import Memory
from graphmem.embed.local import LocalEmbedder
from graphmem.errors import InputError
from graphmem.ids import entity_id
from graphmem.lifecycle.strength import StrengthSettings
from graphmem.models import LifecycleEvent, SearchResult
from graphmem.retrieve.current import holding_leads
from graphmem.retrieve.relevance import score_result
from graphmem.store.export import export_namespace

from support.temporal import temporal_episodes

ROOT = Path(__file__).resolve().parents[3]
EPISODES = temporal_episodes()
NS = "life"
QUESTIONS = [
    "Where does Ada live?",
    "Who does Ben work for?",
    "What music does Ada like?",
    "Where did Ada live in 2020?",
    "Who is the CEO?",
]


@pytest.fixture
def mem(tmp_path: Path, embedder: LocalEmbedder) -> Iterator[Memory]:
    with Memory(f"sqlite:///{tmp_path / 'm.db'}", embedder=embedder, extractor="nlp") as m:
        m.add_episodes(EPISODES, namespace=NS)
        yield m


def shape(result: SearchResult) -> list[tuple[str, str, float, float]]:
    """Every hit of a result, in order, with its score and relevance."""
    out = []
    for name in ("passages", "facts", "entities", "hyperedges", "episodes"):
        for hit in getattr(result, name):
            node = getattr(hit, name[:-1] if name != "entities" else "entity")
            out.append((name, node.id, hit.score, hit.relevance))
    return out


def ids(result: SearchResult) -> set[str]:
    found = {h.episode.id for h in result.episodes} | {h.fact.id for h in result.facts}
    found |= {f.fact.id for h in result.episodes for f in h.facts}
    return found


def test_archive_then_restore_gives_back_identical_results(mem: Memory) -> None:
    before = {q: shape(mem.search(q, k=5, namespace=NS)) for q in QUESTIONS}
    n_episodes = mem.stats(NS).episodes

    report = mem.forget(policy="quota:5", namespace=NS)
    assert report.archived["episode"] == n_episodes - 5
    archived = set(report.ids)
    assert mem.store.ids_in_state(NS, "archived") == sorted(archived)
    for q in QUESTIONS:
        after = mem.search(q, k=5, namespace=NS)
        assert not ids(after) & archived, q
        # as many episodes as before (5 stay visible): the search fetched more, not fewer
        assert len(after.episodes) == sum(1 for h in before[q] if h[0] == "episodes"), q

    # archived episodes still answer a question about the past
    ep = next(i for i in sorted(archived) if i.startswith("ep:"))
    stored = mem.get_episode(ep, namespace=NS)
    assert stored is not None
    dated = mem.search(stored.text, k=10, namespace=NS, as_of=datetime(2030, 1, 1, tzinfo=UTC))
    assert ep in {h.episode.id for h in dated.episodes}

    restored = mem.restore(all_archived=True, namespace=NS)
    assert restored.restored == len(archived)
    assert mem.store.ids_in_state(NS, "archived") == []
    assert {q: shape(mem.search(q, k=5, namespace=NS)) for q in QUESTIONS} == before


def test_an_archived_node_keeps_its_data_and_history(mem: Memory) -> None:
    report = mem.forget(policy="quota:3", namespace=NS)
    ep = next(i for i in report.ids if i.startswith("ep:"))
    life = mem.lifecycle(ep, namespace=NS)
    assert life is not None and life.state == "archived" and life.kind == "episode"
    assert [e.event for e in life.events] == ["stored", "archived"]
    assert life.events[-1].actor == "forget:quota:3"
    assert "quota" in (life.events[-1].reason or "")
    out = io.StringIO()
    export_namespace(mem.store, NS, out)
    exported = {json.loads(line)["data"]["id"] for line in out.getvalue().splitlines()
                if json.loads(line)["type"] == "node"}  # fmt: skip
    assert set(report.ids) <= exported

    mem.restore([ep], namespace=NS)
    life = mem.lifecycle(ep, namespace=NS)
    assert life is not None and life.state == "active"
    assert [e.event for e in life.events] == ["stored", "archived", "restored"]
    assert len(mem.store.ids_in_state(NS, "archived")) == len(report.ids) - 1


def test_a_superseded_fact_is_superseded_again_after_a_restore(mem: Memory) -> None:
    ended = [
        f
        for f in mem.store.get_facts(NS, mem.store.list_ids(NS, "fact", limit=1000)).values()
        if f.expired_at is not None
    ]
    assert ended, "the fixture's moves end some residence facts"
    fact = ended[0]
    life = mem.lifecycle(fact.id, namespace=NS)
    assert life is not None and life.state == "superseded"
    assert [e.event for e in life.events] == ["stored", "superseded"]
    assert life.strength is not None and 0 <= life.strength <= 1

    report = mem.forget(policy="strength:1", namespace=NS, dry_run=True)
    assert fact.id in report.ids and report.dry_run
    assert mem.store.ids_in_state(NS, "archived") == []  # a dry run records nothing

    mem.forget(policy="strength:1", namespace=NS)
    assert mem.lifecycle(fact.id, namespace=NS).state == "archived"  # type: ignore[union-attr]
    mem.restore([fact.id], namespace=NS)
    life = mem.lifecycle(fact.id, namespace=NS)
    assert life is not None and life.state == "superseded"
    assert [e.event for e in life.events] == ["stored", "superseded", "archived", "restored"]


def test_bad_policies_and_restores_are_refused(mem: Memory) -> None:
    for policy in ("", "strength:0", "strength:2", "quota:-1", "quota:2.5", "age:3"):
        with pytest.raises(InputError, match="forget policy"):
            mem.forget(policy=policy, namespace=NS)
    with pytest.raises(InputError):
        mem.restore(namespace=NS)
    with pytest.raises(InputError):
        mem.restore(["ep:x"], all_archived=True, namespace=NS)
    assert mem.restore(["ep:not-archived"], namespace=NS).restored == 0
    assert mem.lifecycle("ep:unknown", namespace=NS) is None


def test_recalls_count_only_when_asked(mem: Memory) -> None:
    from graphmem.lifecycle.strength import StrengthSettings

    found = mem.search("Where does Ada live?", k=3, namespace=NS)
    shown = [h.episode.id for h in found.episodes] + [h.fact.id for h in found.facts]
    assert shown and mem.store.recalls(NS, shown) == {}  # off by default: a search writes nothing
    mem.strength = StrengthSettings(reinforce_on_recall=True)
    before = {i: mem.lifecycle(i, namespace=NS).strength for i in shown}  # type: ignore[union-attr]
    again = mem.search("Where does Ada live?", k=3, namespace=NS)
    assert [h.episode.id for h in again.episodes] == [h.episode.id for h in found.episodes]
    counted = mem.store.recalls(NS, shown)
    assert set(counted) == set(shown) and {n for n, _ in counted.values()} == {1}
    for i in shown:  # recalled now: its clock restarts and its stability grows
        after = mem.lifecycle(i, namespace=NS).strength  # type: ignore[union-attr]
        assert after is not None and after > before[i]  # type: ignore[operator]


def test_session_summaries_are_units_a_search_finds(mem: Memory) -> None:
    sessions = {e["session"] for e in EPISODES}
    units_before = mem.stats(NS).hyperedges
    dry = mem.consolidate(namespace=NS, summaries=True, dry_run=True)
    assert dry.session_units == len(sessions) and mem.stats(NS).hyperedges == units_before
    done = mem.consolidate(namespace=NS, summaries=True)
    assert done.session_units == len(sessions)
    units = mem.store.get_hyperedges(NS, mem.store.list_ids(NS, "hyperedge", limit=1000))
    by_session = {u.description.split(" ")[1]: u for u in units.values() if u.kind == "session"}
    assert set(by_session) == sessions
    first = by_session["ada-1"]
    assert "Lisbon" in first.description and "(2020-01-10)" in first.description
    assert first.members  # the entities its turns produced
    eps = mem.store.get_episodes(NS, mem.store.list_ids(NS, "episode", limit=1000)).values()
    linked = {e.src for e in mem.store.edges_of(NS, [first.id], ["EVIDENCE"]) if e.dst == first.id}
    assert linked == {e.id for e in eps if e.session == "ada-1"}  # its episodes point at it
    found = mem.search("What did Ada say when she lived in Lisbon by the river?", k=5,
                       namespace=NS, include=["hyperedges"])  # fmt: skip
    assert first.id in [h.hyperedge.id for h in found.hyperedges]
    assert mem.consolidate(namespace=NS, summaries=True).session_units == 0  # written once


def _archive(mem: Memory, node_id: str, kind: str) -> None:
    event = LifecycleEvent(
        node_id=node_id, kind=kind, event="archived", state="archived", at=datetime.now(UTC)
    )
    mem.store.record_lifecycle(NS, [event])


def test_a_result_without_archived_hits_is_scored_on_what_it_shows(mem: Memory) -> None:
    question = "Where does Ada live?"
    top = mem.search(question, k=5, namespace=NS).episodes[0].episode.id
    _archive(mem, top, "episode")
    after = mem.search(question, k=5, namespace=NS)
    assert top not in {h.episode.id for h in after.episodes}
    # scoring the shown hits again changes nothing: confidence and relevance are theirs
    again = after.model_copy(deep=True)
    vector = mem.embedder.embed([question], kind="query")[0]
    score_result(again, vector, mem.store, mem.embedder)
    assert again.confidence == pytest.approx(after.confidence)
    assert [h.relevance for h in again.episodes] == pytest.approx(
        [h.relevance for h in after.episodes]
    )


def test_an_archived_fact_leads_no_question_about_now(mem: Memory) -> None:
    ada = entity_id(NS, "Ada")
    held = [
        f
        for f in mem.store.facts_between(NS, [ada])
        if f.slot == "residence" and f.subject == ada and f.expired_at is None
    ]
    assert held, "the fixture states where Ada lives now"

    def leads() -> list[str]:
        return holding_leads(
            mem.store, NS, "Where does Ada live now?", [], {}, {ada}, None, [], 0.1
        )

    before = leads()
    assert before
    for f in held:
        _archive(mem, f.id, "fact")
    assert not set(leads()) & set(before)
    # a question asked as of a time still sees the archived fact
    dated = holding_leads(
        mem.store, NS, "Where does Ada live now?", [], {}, {ada}, datetime(2030, 1, 1, tzinfo=UTC),
        [], 0.1,
    )  # fmt: skip
    assert set(dated) & set(before)


def test_the_strength_prior_leaves_questions_about_now_in_their_order(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    question = "Where does Ada live now?"
    with Memory(f"sqlite:///{tmp_path / 'p.db'}", embedder=embedder, extractor="nlp") as plain:
        plain.add_episodes(EPISODES, namespace=NS)
        expected = [h.episode.id for h in plain.search(question, k=5, namespace=NS).episodes]
        undated = [h.episode.id for h in plain.search("Ada and jazz", k=5, namespace=NS).episodes]
    prior = StrengthSettings(prior_weight=1.0)
    with Memory(
        f"sqlite:///{tmp_path / 'p.db'}", embedder=embedder, extractor="nlp", strength=prior
    ) as weighted:
        assert [h.episode.id for h in weighted.search(question, k=5, namespace=NS).episodes] == (
            expected
        )
        # elsewhere the prior does reorder (else this test would prove nothing)
        ordered = weighted.search("Ada and jazz", k=5, namespace=NS)
        assert [h.episode.id for h in ordered.episodes] != undated
        rel = [h.relevance for h in ordered.episodes]
        assert rel == sorted(rel, reverse=True)
