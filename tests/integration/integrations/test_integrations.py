"""The LangChain and LlamaIndex retrievers, for real, over a real Memory on a temporary SQLite store.

Sync and async, wrapping Memory and AsyncMemory, inside a small chain / query pipeline that formats
the retrieved context (no LLM is called: LlamaIndex's MockLLM echoes the prompt it is given).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from graphmem import AsyncMemory, Memory
from graphmem.errors import ConfigError
from graphmem.ingest.sources import read_documents

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "examples/data/demo_corpus.jsonl"
QUESTIONS = [json.loads(line) for line in (ROOT / "examples/data/demo_questions.jsonl").open()]
Q1 = QUESTIONS[0]  # river through the town where the author of The Glass Orchard was born


@pytest.fixture(scope="module")
def memory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Memory]:
    path = tmp_path_factory.mktemp("integrations") / "demo.db"
    with Memory(f"sqlite:///{path}", extractor="nlp") as mem:
        report = mem.add_many(read_documents(CORPUS))
        assert report.passages_added == sum(1 for _ in CORPUS.open())
        yield mem


@pytest.fixture(scope="module")
def amemory(memory: Memory) -> AsyncMemory:
    # The same store and model, behind the async facade.
    return AsyncMemory(memory.store, embedder=memory.embedder, extractor=None)


def _check_metadata(meta: dict[str, Any], memory: Memory, rank: int) -> None:
    expected = memory.search(Q1["question"], k=4).passages[rank - 1]
    assert meta["passage_id"] == expected.passage.id
    assert meta["score"] == pytest.approx(expected.score)
    assert meta["dense_score"] == pytest.approx(expected.dense_score)
    assert meta["rank"] == rank
    assert meta["source"] == expected.passage.source
    assert meta["path"] == expected.path
    assert [f["fact_id"] for f in meta["facts"]] == [f.fact.id for f in expected.facts]
    for f in meta["facts"]:
        assert set(f) >= {"subject", "predicate", "object", "text", "score"}
    json.dumps(meta)  # plain data all the way down


# ------------------------------------------------------------------------------ LangChain


def test_langchain_sync_documents_carry_graphmem_scores_and_facts(memory: Memory) -> None:
    from graphmem.integrations.langchain import GraphmemRetriever

    retriever = GraphmemRetriever(memory, k=4)
    docs = retriever.invoke(Q1["question"])
    assert len(docs) == 4
    assert {d.metadata["source"] for d in docs} >= set(Q1["gold_passage_ids"])
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)
    for rank, doc in enumerate(docs, start=1):
        assert doc.id == doc.metadata["passage_id"]
        assert doc.page_content == memory.get_passage(doc.id).text  # type: ignore[union-attr]
        _check_metadata(doc.metadata, memory, rank)
    assert any(doc.metadata["facts"] for doc in docs)


def test_langchain_chain_formats_retrieved_context(memory: Memory) -> None:
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough

    from graphmem.integrations.langchain import GraphmemRetriever

    def format_docs(docs: list[Any]) -> str:
        blocks = []
        for d in docs:
            facts = "; ".join(
                f"{f['subject']} {f['predicate']} {f['object']}" for f in d.metadata["facts"]
            )
            blocks.append(f"[{d.metadata['source']}] {d.page_content}\n  facts: {facts}")
        return "\n".join(blocks)

    prompt = ChatPromptTemplate.from_template(
        "Answer from the context.\n{context}\n\nQuestion: {question}"
    )
    chain = {
        "context": GraphmemRetriever(memory, k=3) | RunnableLambda(format_docs),
        "question": RunnablePassthrough(),
    } | prompt
    value = chain.invoke(Q1["question"])
    text = value.to_messages()[0].content
    assert isinstance(text, str)
    assert Q1["question"] in text
    assert "[d01]" in text  # the gold passage that names the author's birthplace
    assert "Helena Marsh" in text and "facts:" in text


def test_langchain_async_over_memory_and_async_memory(memory: Memory, amemory: AsyncMemory) -> None:
    from graphmem.integrations.langchain import GraphmemRetriever

    sync_ids = [d.id for d in GraphmemRetriever(memory, k=4).invoke(Q1["question"])]

    async def main() -> tuple[list[Any], list[Any], list[Any]]:
        over_sync = GraphmemRetriever(memory, k=4)  # runs on a worker thread
        over_async = GraphmemRetriever(amemory, k=4)  # awaited
        a, b = await asyncio.gather(
            over_sync.ainvoke(Q1["question"]), over_async.ainvoke(Q1["question"])
        )
        # Several questions at once through one async retriever.
        many = await over_async.abatch([q["question"] for q in QUESTIONS[:3]])
        return a, b, many

    a, b, many = asyncio.run(main())
    assert [d.id for d in a] == sync_ids
    assert [d.id for d in b] == sync_ids
    assert len(many) == 3
    for q, docs in zip(QUESTIONS[:3], many, strict=True):
        assert set(q["gold_passage_ids"]) & {d.metadata["source"] for d in docs}


def test_langchain_sync_call_on_async_memory(amemory: AsyncMemory, memory: Memory) -> None:
    from graphmem.integrations.langchain import GraphmemRetriever

    docs = GraphmemRetriever(amemory, k=2).invoke(Q1["question"])
    assert [d.id for d in docs] == [
        h.passage.id for h in memory.search(Q1["question"], k=2).passages
    ]


def test_langchain_namespace_is_respected(memory: Memory) -> None:
    from graphmem.integrations.langchain import GraphmemRetriever

    assert GraphmemRetriever(memory, k=3, namespace="nobody-here").invoke(Q1["question"]) == []


def test_langchain_rejects_what_is_not_a_memory() -> None:
    from graphmem.integrations.langchain import GraphmemRetriever

    with pytest.raises(ConfigError, match="expected a graphmem Memory"):
        GraphmemRetriever(object())
    with pytest.raises(ConfigError, match="needs a memory"):
        GraphmemRetriever()


# ------------------------------------------------------------------------------ LlamaIndex


def test_llamaindex_sync_nodes_carry_graphmem_scores_and_facts(memory: Memory) -> None:
    from llama_index.core.schema import MetadataMode

    from graphmem.integrations.llamaindex import GraphmemLlamaRetriever

    nodes = GraphmemLlamaRetriever(memory, k=4).retrieve(Q1["question"])
    assert len(nodes) == 4
    assert {n.node.metadata["source"] for n in nodes} >= set(Q1["gold_passage_ids"])
    for rank, n in enumerate(nodes, start=1):
        assert n.node.node_id == n.node.metadata["passage_id"]
        assert n.score == pytest.approx(n.node.metadata["relevance"])
        _check_metadata(n.node.metadata, memory, rank)
        shown = n.node.get_content(metadata_mode=MetadataMode.LLM)
        assert f"source: {n.node.metadata['source']}" in shown
        assert "fact_id" not in shown and "passage_metadata" not in shown


def test_llamaindex_async_over_memory_and_async_memory(
    memory: Memory, amemory: AsyncMemory
) -> None:
    from graphmem.integrations.llamaindex import GraphmemLlamaRetriever

    sync_ids = [
        n.node.node_id for n in GraphmemLlamaRetriever(memory, k=3).retrieve(Q1["question"])
    ]

    async def main() -> tuple[list[Any], list[Any]]:
        return await asyncio.gather(
            GraphmemLlamaRetriever(memory, k=3).aretrieve(Q1["question"]),
            GraphmemLlamaRetriever(amemory, k=3).aretrieve(Q1["question"]),
        )

    a, b = asyncio.run(main())
    assert [n.node.node_id for n in a] == sync_ids
    assert [n.node.node_id for n in b] == sync_ids


def test_llamaindex_query_engine_formats_context_without_an_llm(memory: Memory) -> None:
    from llama_index.core.llms import MockLLM
    from llama_index.core.query_engine import RetrieverQueryEngine

    from graphmem.integrations.llamaindex import GraphmemLlamaRetriever

    engine = RetrieverQueryEngine.from_args(
        GraphmemLlamaRetriever(memory, k=3), llm=MockLLM(), response_mode="compact"
    )
    response = engine.query(Q1["question"])
    sources = [n.node.metadata["source"] for n in response.source_nodes]
    assert "d01" in sources
    # MockLLM echoes its prompt: the retrieved passages were formatted into it, with their source.
    text = str(response)
    assert "Helena Marsh" in text and "source: d01" in text
    assert Q1["question"] in text


def test_llamaindex_rejects_bad_arguments(memory: Memory) -> None:
    from graphmem.integrations.llamaindex import GraphmemLlamaRetriever

    with pytest.raises(ConfigError):
        GraphmemLlamaRetriever(object())
    with pytest.raises(ConfigError, match="k must be"):
        GraphmemLlamaRetriever(memory, k=0)


def test_import_graphmem_needs_neither_framework() -> None:
    code = (
        "import sys, graphmem, graphmem.integrations, graphmem.viz\n"
        "bad = [m for m in ('langchain_core', 'llama_index', 'matplotlib') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# ------------------------------------------------------------------------------ over the client SDK


def test_retrievers_over_the_client_sdk(memory: Memory) -> None:
    """Client and AsyncClient against the real GraphQL app (in process, httpx's ASGI transport)."""
    import httpx

    from graphmem.client import AsyncClient, Client
    from graphmem.integrations.langchain import GraphmemRetriever
    from graphmem.integrations.llamaindex import GraphmemLlamaRetriever
    from graphmem_api import Settings, create_app

    app = create_app(memory, settings=Settings(access_log=False))
    local = [h.passage.id for h in memory.search(Q1["question"], k=3).passages]
    with Client("http://testserver", transport=httpx.ASGITransport(app=app)) as client:
        docs = GraphmemRetriever(client, k=3).invoke(Q1["question"])
        nodes = GraphmemLlamaRetriever(client, k=3).retrieve(Q1["question"])
    assert [d.id for d in docs] == local
    assert [n.node.node_id for n in nodes] == local
    assert docs[0].metadata["facts"] and docs[0].metadata["score"] > 0

    async def remote() -> tuple[list[Any], list[Any]]:
        async with AsyncClient(
            "http://testserver", transport=httpx.ASGITransport(app=app)
        ) as aclient:
            return await asyncio.gather(
                GraphmemRetriever(aclient, k=3).ainvoke(Q1["question"]),
                GraphmemLlamaRetriever(aclient, k=3).aretrieve(Q1["question"]),
            )

    adocs, anodes = asyncio.run(remote())
    assert [d.id for d in adocs] == local
    assert [n.node.node_id for n in anodes] == local


# ------------------------------------------------------------------------------ episodes

EPISODES_FILE = ROOT / "tests/data/temporal_episodes.jsonl"
EPISODE_ROWS = [
    {k: r[k] for k in ("session", "time", "speaker", "text")}
    for r in (json.loads(line) for line in EPISODES_FILE.open(encoding="utf-8"))
    if r["type"] == "episode"
]
ADA = "Where does Ada live?"


@pytest.fixture(scope="module")
def episodic(memory: Memory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Memory]:
    """A store holding episodes only (no document), with the same model."""
    path = tmp_path_factory.mktemp("integrations") / "episodes.db"
    with Memory(f"sqlite:///{path}", embedder=memory.embedder, extractor="nlp") as mem:
        assert mem.add_episodes(EPISODE_ROWS).episodes_added == len(EPISODE_ROWS) - 1
        assert mem.stats().passages == 0
        yield mem


def _expected_episodes(mem: Memory, question: str, k: int) -> list[Any]:
    hits = mem.search(question, k=k).episodes
    assert hits, "the episodic store answers"
    return sorted(hits, key=lambda h: -h.score)[:k]


def _check_episode_metadata(meta: dict[str, Any], hit: Any, rank: int) -> None:
    ep = hit.episode
    assert meta["kind"] == "episode" and meta["episode_id"] == ep.id and meta["rank"] == rank
    assert meta["score"] == pytest.approx(hit.score)
    assert meta["speaker"] == ep.speaker and meta["session"] == ep.session
    assert datetime.fromisoformat(meta["time"]) == ep.time
    assert [f["fact_id"] for f in meta["facts"]] == [f.fact.id for f in hit.facts]
    for f, fh in zip(meta["facts"], hit.facts, strict=True):
        assert f["current"] == (fh.fact.invalid_at is None and fh.fact.expired_at is None)
        for name in ("valid_at", "invalid_at", "expired_at"):
            value = getattr(fh.fact, name)
            assert f[name] == (value.isoformat() if value is not None else None)
    json.dumps(meta)


def test_langchain_returns_episodes_from_an_episode_only_store(episodic: Memory) -> None:
    from graphmem.integrations.langchain import GraphmemRetriever

    # stale turns rank below the current ones for a question about the present: k reaches them
    expected = _expected_episodes(episodic, ADA, 6)
    docs = GraphmemRetriever(episodic, k=6).invoke(ADA)
    assert [d.id for d in docs] == [h.episode.id for h in expected]
    for rank, (doc, hit) in enumerate(zip(docs, expected, strict=True), start=1):
        assert doc.page_content == hit.episode.text
        _check_episode_metadata(doc.metadata, hit, rank)
    facts = [f for d in docs for f in d.metadata["facts"]]
    assert any(not f["current"] and f["invalid_at"] for f in facts), (
        "Ada's former home is returned as ended"
    )


def test_langchain_async_returns_episodes(episodic: Memory) -> None:
    from graphmem.integrations.langchain import GraphmemRetriever

    amem = AsyncMemory(episodic.store, embedder=episodic.embedder, extractor=None)
    want = [h.episode.id for h in _expected_episodes(episodic, ADA, 3)]

    async def main() -> tuple[list[Any], list[Any]]:
        return await asyncio.gather(
            GraphmemRetriever(episodic, k=3).ainvoke(ADA),
            GraphmemRetriever(amem, k=3).ainvoke(ADA),
        )

    a, b = asyncio.run(main())
    assert [d.id for d in a] == want and [d.id for d in b] == want
    assert all(d.metadata["kind"] == "episode" for d in a + b)


def test_llamaindex_returns_episodes_sync_and_async(episodic: Memory) -> None:
    from llama_index.core.schema import MetadataMode

    from graphmem.integrations.llamaindex import GraphmemLlamaRetriever

    expected = _expected_episodes(episodic, ADA, 4)
    nodes = GraphmemLlamaRetriever(episodic, k=4).retrieve(ADA)
    assert [n.node.node_id for n in nodes] == [h.episode.id for h in expected]
    for rank, (n, hit) in enumerate(zip(nodes, expected, strict=True), start=1):
        assert n.score == pytest.approx(hit.relevance)
        _check_episode_metadata(n.node.metadata, hit, rank)
        shown = n.node.get_content(metadata_mode=MetadataMode.LLM)
        assert (
            f"speaker: {hit.episode.speaker}" in shown
            and f"session: {hit.episode.session}" in shown
        )
        assert "time: " in shown and hit.episode.text in shown
        assert "fact_id" not in shown and "episode_metadata" not in shown

    anodes = asyncio.run(GraphmemLlamaRetriever(episodic, k=4).aretrieve(ADA))
    assert [n.node.node_id for n in anodes] == [h.episode.id for h in expected]


def test_episodes_through_the_client_sdk(episodic: Memory) -> None:
    import httpx

    from graphmem.client import Client
    from graphmem.integrations.langchain import GraphmemRetriever
    from graphmem.integrations.llamaindex import GraphmemLlamaRetriever
    from graphmem_api import Settings, create_app

    app = create_app(episodic, settings=Settings(access_log=False))
    want = [h.episode.id for h in _expected_episodes(episodic, ADA, 3)]
    with Client("http://testserver", transport=httpx.ASGITransport(app=app)) as client:
        docs = GraphmemRetriever(client, k=3).invoke(ADA)
        nodes = GraphmemLlamaRetriever(client, k=3).retrieve(ADA)
    assert [d.id for d in docs] == want
    assert [n.node.node_id for n in nodes] == want
    assert docs[0].metadata["speaker"] and "valid_at" in docs[0].metadata["facts"][0]


def test_passages_and_episodes_are_one_list_by_relevance() -> None:
    from graphmem.integrations._common import ranked_hits
    from graphmem.integrations.langchain import to_documents
    from graphmem.integrations.llamaindex import to_nodes
    from graphmem.models import Episode, EpisodeHit, Passage, PassageHit, SearchResult

    def passage(i: int, relevance: float) -> PassageHit:
        # the ranker's own score says nothing across kinds: 1/61 for every top passage
        return PassageHit(
            passage=Passage(id=f"p:{i}", text=f"passage {i}"),
            score=1 / (60 + i),
            relevance=relevance,
        )

    def episode(i: int, relevance: float) -> EpisodeHit:
        ep = Episode(
            id=f"ep:{i}",
            text=f"Ada: turn {i}",
            time=datetime(2024, 1, i, tzinfo=UTC),
            speaker="Ada",
            session="s1",
        )
        return EpisodeHit(episode=ep, score=2.5 - i, relevance=relevance)

    result = SearchResult(
        question="q",
        passages=[passage(1, 0.9), passage(2, 0.4), passage(3, 0.1)],
        episodes=[episode(1, 0.95), episode(2, 0.7), episode(3, 0.4)],
        confidence=0.8,
        answerable=True,
    )
    order = ["ep:1", "p:1", "ep:2", "p:2", "ep:3", "p:3"]  # a tie keeps the passage first
    ranked = ranked_hits(result)
    assert [h.passage.id if isinstance(h, PassageHit) else h.episode.id for h in ranked] == order
    relevances = [h.relevance for h in ranked]
    assert relevances == sorted(relevances, reverse=True)
    docs = to_documents(result, 4)
    assert [d.id for d in docs] == order[:4]
    assert [d.metadata["kind"] for d in docs] == ["episode", "passage", "episode", "passage"]
    assert [d.metadata["rank"] for d in docs] == [1, 2, 3, 4]
    assert [d.metadata["relevance"] for d in docs] == [0.95, 0.9, 0.7, 0.4]
    assert all(d.metadata["confidence"] == 0.8 and d.metadata["answerable"] for d in docs)
    nodes = to_nodes(result)
    assert [n.node.node_id for n in nodes] == order
    assert [n.score for n in nodes] == [0.95, 0.9, 0.7, 0.4, 0.4, 0.1]
