"""``Memory.to_networkx`` and ``graphmem export --format graphml`` round-trip a namespace: node
and edge counts equal the store's, and GraphML read back by networkx has the same graph."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from graphmem.cli import app
from graphmem.embed.local import LocalEmbedder
from graphmem.extract.precomputed import PrecomputedExtractor
from graphmem.memory import Memory
from graphmem.models import Stats
from graphmem.store.base import NODE_KINDS

DATA = Path(__file__).resolve().parents[2] / "data"
SLICE = DATA / "musique_slice"
PASSAGES = 12


FIELD = {
    "passage": "passages",
    "entity": "entities",
    "fact": "facts",
    "event": "events",
    "hyperedge": "hyperedges",
    "episode": "episodes",
}


def by_kind(stats: Stats) -> dict[str, int]:
    return {k: getattr(stats, FIELD[k]) for k in NODE_KINDS if getattr(stats, FIELD[k])}


def node_count(stats: Stats) -> int:
    return sum(getattr(stats, FIELD[kind]) for kind in NODE_KINDS)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, embedder: LocalEmbedder) -> Path:
    """A namespace with passages, entities and facts (musique triples), episodes and a note."""
    path = tmp_path_factory.mktemp("nx") / "graph.db"
    rows = [json.loads(x) for x in (SLICE / "corpus.jsonl").read_text().splitlines()[:PASSAGES]]
    extractor = PrecomputedExtractor.from_file(SLICE / "triples.jsonl")
    with Memory(f"sqlite:///{path}", embedder=embedder, extractor=extractor) as mem:
        mem.add_many({"text": r["text"], "title": r["title"], "source": r["id"]} for r in rows)
        episodes = [
            json.loads(x) for x in (DATA / "temporal_episodes.jsonl").read_text().splitlines()
        ]
        mem.add_episodes(
            {k: e[k] for k in ("text", "time", "speaker", "session")} for e in episodes[:6]
        )
        mem.add_note("Ada and Grace met in Lisbon.", members=["Ada", "Grace", "Lisbon"])
    return path


def test_to_networkx_has_the_stores_nodes_and_edges(db: Path, embedder: LocalEmbedder) -> None:
    with Memory(f"sqlite:///{db}", embedder=embedder, extractor=None) as mem:
        stats = mem.stats()
        graph = mem.to_networkx()
    # every kind is there, so the counts below are not vacuous
    assert min(stats.passages, stats.entities, stats.facts, stats.episodes, stats.hyperedges) > 0
    assert graph.number_of_nodes() == node_count(stats)
    kinds = Counter(kind for _, kind in graph.nodes(data="kind"))
    assert kinds == by_kind(stats)
    # every stored edge, and one RELATES edge per fact (a fact is a node and a relation)
    assert graph.number_of_edges() == stats.edges + stats.facts
    relates = [d for *_, d in graph.edges(data=True) if d["type"] == "RELATES"]
    assert len(relates) == stats.facts
    # properties come along, as GraphML scalars
    note = next(d for _, d in graph.nodes(data=True) if d.get("hyperedge_kind") == "note")
    assert (
        note["description"] == "Ada and Grace met in Lisbon."
        and len(json.loads(note["members"])) == 3
    )

    for _, data in graph.nodes(data=True):
        assert all(isinstance(v, (str, int, float, bool)) for v in data.values())


def test_graphml_export_round_trips(db: Path, tmp_path: Path, embedder: LocalEmbedder) -> None:
    out = tmp_path / "sub" / "graph.graphml"
    result = CliRunner().invoke(
        app, ["export", "--store", f"sqlite:///{db}", "--format", "graphml", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    back = nx.read_graphml(out, force_multigraph=True)
    with Memory(f"sqlite:///{db}", embedder=embedder, extractor=None) as mem:
        stats = mem.stats()
        graph = mem.to_networkx()
    assert back.number_of_nodes() == graph.number_of_nodes() == node_count(stats)
    assert back.number_of_edges() == graph.number_of_edges() == stats.edges + stats.facts
    assert set(back.nodes) == set(graph.nodes)
    # one node of each kind keeps every property through the file
    first = {kind: node for node, kind in reversed(list(graph.nodes(data="kind")))}
    assert set(first) == set(by_kind(stats))
    for node in first.values():
        assert back.nodes[node] == graph.nodes[node]
    assert Counter(d["type"] for *_, d in back.edges(data=True)) == Counter(
        d["type"] for *_, d in graph.edges(data=True)
    )
    bad = CliRunner().invoke(app, ["export", "--store", f"sqlite:///{db}", "--format", "gexf"])
    assert bad.exit_code != 0 and "use jsonl or graphml" in str(bad.exception)


def test_every_node_carries_its_lifecycle_state(db: Path, embedder: LocalEmbedder) -> None:
    with Memory(f"sqlite:///{db}", embedder=embedder, extractor=None) as mem:
        before = mem.to_networkx()
        assert {s for _, s in before.nodes(data="state")} == {"active"}
        mem.forget(policy="quota:0")
        try:
            after = mem.to_networkx()
        finally:
            mem.restore(all_archived=True)
        assert dict(mem.to_networkx().nodes(data="state")) == dict(before.nodes(data="state"))
    weighed = {n for n, d in before.nodes(data=True) if d["kind"] in ("fact", "episode")}
    assert weighed and {after.nodes[n]["state"] for n in weighed} == {"archived"}
    others = set(before) - weighed
    assert {after.nodes[n]["state"] for n in others} == {"active"}
    for n in weighed:  # nothing lost
        assert {k: v for k, v in after.nodes[n].items() if k != "state"} == {
            k: v for k, v in before.nodes[n].items() if k != "state"
        }
