"""``Memory`` and ``AsyncMemory``: the facade that wires a store, an embedder and an extractor.

>>> from graphmem import Memory
>>> with Memory("sqlite:///demo.db") as mem:                      # doctest: +SKIP
...     mem.add("Ada Lovelace was born in London.", source="notes/ada")
...     hit = mem.search("Where was Ada Lovelace born?", k=3).passages[0]
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from graphmem.embed.base import Embedder
from graphmem.errors import ConfigError, InputError
from graphmem.extract.base import Extractor
from graphmem.ids import check_namespace, entity_id
from graphmem.ingest import Ingestor
from graphmem.models import (
    DeleteReport,
    Document,
    Entity,
    EntityHit,
    Episode,
    FactHit,
    IngestReport,
    Neighbor,
    Passage,
    PassageHit,
    SearchResult,
    Stats,
)
from graphmem.resolve import ResolverSettings
from graphmem.retrieve.hippo import HippoSettings, Retrieval, retrieve
from graphmem.store.base import Store

DEFAULT_STORE = "sqlite:///graphmem.db"
MAX_K = 1000
MAX_QUESTION_CHARS = 10_000

DocumentLike = Document | str | Mapping[str, Any]


def make_embedder(spec: Embedder | str) -> Embedder:
    """``"local"`` (the bundled MiniLM model) or an :class:`Embedder` instance."""
    if not isinstance(spec, str):
        return spec
    if spec == "local":
        from graphmem.embed.local import LocalEmbedder

        return LocalEmbedder()
    raise ConfigError(f"unknown embedder {spec!r}: use 'local' or pass an Embedder instance")


def make_extractor(spec: Extractor | str | None) -> Extractor | None:
    """``"nlp"`` (spaCy, offline), ``"none"``, or an :class:`Extractor` instance.

    The ``precomputed`` and ``llm`` extractors need arguments (a file; an endpoint): build them
    and pass the instance, or use the CLI, which does.
    """
    if spec is None or not isinstance(spec, str):
        return spec
    if spec in {"nlp", "spacy"}:
        from graphmem.extract.nlp import SpacyExtractor

        return SpacyExtractor()
    if spec == "none":
        return None
    raise ConfigError(
        f"unknown extractor {spec!r}: use 'nlp' or 'none', or pass an Extractor instance "
        "(PrecomputedExtractor.from_file(...), LLMExtractor(...))"
    )


def _to_document(doc: DocumentLike) -> Document:
    if isinstance(doc, Document):
        return doc
    if isinstance(doc, str):
        return Document(text=doc)
    try:
        return Document.model_validate(doc)
    except Exception as exc:
        raise InputError(f"not a document: {exc}") from exc


class Memory:
    """Knowledge-graph memory over one store.

    ``store``: a URL (``sqlite:///file.db``, ``neo4j://…``, ``falkordb://host:port``) or a Store.
    ``embedder``: ``"local"`` or an Embedder. ``extractor``: ``"nlp"``, ``"none"`` or an Extractor.
    """

    def __init__(
        self,
        store: Store | str = DEFAULT_STORE,
        *,
        embedder: Embedder | str = "local",
        extractor: Extractor | str | None = "nlp",
        namespace: str = "default",
        retrieval: HippoSettings | None = None,
        resolver: ResolverSettings | None = None,
    ) -> None:
        if isinstance(store, str):
            from graphmem.store import open_store

            store = open_store(store)
        self.store: Store = store
        self.embedder: Embedder = make_embedder(embedder)
        self.extractor: Extractor | None = make_extractor(extractor)
        self.namespace = check_namespace(namespace)
        self.retrieval = retrieval or HippoSettings()
        self._ingestor = Ingestor(self.store, self.embedder, self.extractor, resolver or ResolverSettings())

    # -- helpers ------------------------------------------------------------------------------
    def _ns(self, namespace: str | None) -> str:
        try:
            return check_namespace(namespace) if namespace is not None else self.namespace
        except ValueError as exc:
            raise InputError(str(exc), field="namespace") from exc

    # -- ingest -------------------------------------------------------------------------------
    def add(
        self,
        text: str,
        *,
        source: str | None = None,
        title: str | None = None,
        time: datetime | None = None,
        metadata: dict[str, Any] | None = None,
        namespace: str | None = None,
    ) -> IngestReport:
        """Ingest one text. Adding the same text again does nothing."""
        doc = Document(text=text, source=source, title=title, time=time, metadata=metadata or {})
        return self.add_many([doc], namespace=namespace)

    def add_many(
        self,
        docs: Iterable[DocumentLike],
        *,
        namespace: str | None = None,
        batch_size: int = 64,
        progress: bool = False,
        retry_failed: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Ingest many documents, one transaction per ``batch_size`` of them."""
        ns = self._ns(namespace)
        documents = (_to_document(d) for d in docs)
        if not progress:
            return self._ingestor.ingest(
                ns, documents, batch_size=batch_size, retry_failed=retry_failed, on_progress=on_progress
            )
        from tqdm import tqdm

        items = list(documents)
        with tqdm(total=len(items), desc="ingest", unit="doc") as bar:

            def step(n: int) -> None:
                bar.update(n)
                if on_progress:
                    on_progress(n)

            return self._ingestor.ingest(
                ns, items, batch_size=batch_size, retry_failed=retry_failed, on_progress=step
            )

    def retry_failed(self, *, namespace: str | None = None, batch_size: int = 64) -> IngestReport:
        """Extract again every passage whose extraction failed before."""
        ns = self._ns(namespace)
        failed = self.store.failed_passages(ns, limit=1_000_000)
        docs = [
            Document(text=p.text, source=p.source, title=p.title, metadata=p.metadata) for p in failed
        ]
        return self._ingestor.ingest(ns, docs, batch_size=batch_size, retry_failed=True)

    # -- search -------------------------------------------------------------------------------
    def search(
        self,
        question: str,
        *,
        k: int = 5,
        namespace: str | None = None,
    ) -> SearchResult:
        """Passages answering ``question``, with the facts that led to them and their scores."""
        if not isinstance(question, str) or not question.strip():
            raise InputError("the question is empty", field="question")
        if len(question) > MAX_QUESTION_CHARS:
            raise InputError(
                f"the question is {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}",
                field="question",
            )
        if not 1 <= k <= MAX_K:
            raise InputError(f"k must be between 1 and {MAX_K}, got {k}", field="k")
        ns = self._ns(namespace)
        t0 = time.perf_counter()
        q = self.embedder.embed([question], kind="query")[0]
        t1 = time.perf_counter()
        found = retrieve(self.store, ns, q, k, self.retrieval)
        t2 = time.perf_counter()
        result = self._format(question, ns, found)
        t3 = time.perf_counter()
        result.timings_ms = {
            "embed": (t1 - t0) * 1e3,
            "retrieve": (t2 - t1) * 1e3,
            "format": (t3 - t2) * 1e3,
        }
        return result

    def _format(self, question: str, ns: str, found: Retrieval) -> SearchResult:
        store = self.store
        pids = [pid for pid, _ in found.passages]
        passages = store.get_passages(ns, pids)
        by_passage = store.facts_of_passages(ns, pids)
        fact_ids = {f for fs in by_passage.values() for f in fs} | {f for f, _ in found.facts}
        facts = store.get_facts(ns, sorted(fact_ids))
        names_needed = {f.subject for f in facts.values()} | {f.object for f in facts.values()}
        top_entities = sorted(
            ((nid, s) for nid, s in found.node_scores.items() if nid.startswith("e:")),
            key=lambda t: -t[1],
        )[:10]
        names_needed |= {e for e, _ in top_entities} | set(found.seeds)
        entities = store.get_entities(ns, sorted(n for n in names_needed if n.startswith("e:")))

        def name(eid: str) -> str:
            ent = entities.get(eid)
            return ent.name if ent else eid

        matched = dict(found.facts)

        def fact_hit(fid: str) -> FactHit | None:
            f = facts.get(fid)
            if f is None:
                return None
            score = matched.get(fid)
            if score is None:
                score = found.node_scores.get(f.subject, 0.0) + found.node_scores.get(f.object, 0.0)
            return FactHit(fact=f, score=score, subject_name=name(f.subject), object_name=name(f.object))

        hits: list[PassageHit] = []
        for pid, score in found.passages:
            passage = passages.get(pid)
            if passage is None:
                continue
            # The facts that linked the passage: those touching a seed, best-scored first.
            linked = [
                h
                for h in (fact_hit(fid) for fid in by_passage.get(pid, []))
                if h is not None
                and (h.fact.subject in found.seeds or h.fact.object in found.seeds or h.fact.id in matched)
            ]
            linked.sort(key=lambda h: -h.score)
            path: list[str] = []
            for h in linked[:3]:
                for eid in (h.fact.subject, h.fact.object):
                    if eid in found.seeds and name(eid) not in path:
                        path.append(name(eid))
            hits.append(
                PassageHit(
                    passage=passage,
                    score=score,
                    dense_score=found.dense.get(pid),
                    facts=linked[:5],
                    path=path,
                )
            )
        fact_hits = [h for h in (fact_hit(fid) for fid, _ in found.facts) if h is not None]
        entity_hits = [
            EntityHit(entity=entities[eid], score=s) for eid, s in top_entities if eid in entities
        ]
        return SearchResult(
            question=question,
            passages=hits,
            facts=fact_hits,
            entities=entity_hits,
            mode=found.mode,
        )

    # -- reads and deletes --------------------------------------------------------------------
    def get_entity(self, id_or_name: str, *, namespace: str | None = None) -> Entity | None:
        """An entity by id (``e:…``) or by name (matched after normalization)."""
        ns = self._ns(namespace)
        eid = id_or_name if id_or_name.startswith("e:") else entity_id(ns, id_or_name)
        return self.store.get_entities(ns, [eid]).get(eid)

    def get_passage(self, passage_id: str, *, namespace: str | None = None) -> Passage | None:
        ns = self._ns(namespace)
        return self.store.get_passages(ns, [passage_id]).get(passage_id)

    def get_episode(self, episode_id: str, *, namespace: str | None = None) -> Episode | None:
        ns = self._ns(namespace)
        return self.store.get_episodes(ns, [episode_id]).get(episode_id)

    def neighbors(
        self, node_id: str, *, namespace: str | None = None, limit: int = 50
    ) -> list[Neighbor]:
        """Nodes one edge (or one fact) away from ``node_id``, strongest first."""
        ns = self._ns(namespace)
        out: list[Neighbor] = []
        if node_id.startswith("e:"):
            for f in self.store.facts_between(ns, [node_id]):
                other, direction = (f.object, "out") if f.subject == node_id else (f.subject, "in")
                out.append(
                    Neighbor(id=other, kind="entity", label=f.text, edge_type="RELATES",
                             weight=f.confidence, direction=direction)  # type: ignore[arg-type]
                )
        for e in self.store.edges_of(ns, [node_id]):
            other, direction = (e.dst, "out") if e.src == node_id else (e.src, "in")
            out.append(
                Neighbor(id=other, kind=_kind(other), label=other, edge_type=e.type,
                         weight=e.weight, direction=direction)  # type: ignore[arg-type]
            )
        labels = self._labels(ns, [n.id for n in out if n.edge_type != "RELATES"])
        for n in out:
            if n.edge_type != "RELATES":
                n.label = labels.get(n.id, n.id)
        out.sort(key=lambda n: (-n.weight, n.id))
        return out[:limit]

    def _labels(self, ns: str, ids: list[str]) -> dict[str, str]:
        labels: dict[str, str] = {}
        ents = self.store.get_entities(ns, [i for i in ids if i.startswith("e:")])
        labels.update({i: e.name for i, e in ents.items()})
        pas = self.store.get_passages(ns, [i for i in ids if i.startswith("p:")])
        labels.update({i: (p.title or p.text[:80]) for i, p in pas.items()})
        facts = self.store.get_facts(ns, [i for i in ids if i.startswith("f:")])
        labels.update({i: f.text for i, f in facts.items()})
        return labels

    def delete(self, *, source: str, namespace: str | None = None) -> DeleteReport:
        """Delete a source's passages and what only they supported."""
        return self.store.delete_source(self._ns(namespace), source)

    def delete_namespace(self, namespace: str) -> DeleteReport:
        return self.store.delete_namespace(self._ns(namespace))

    def stats(self, namespace: str | None = None) -> Stats:
        return self.store.stats(self._ns(namespace))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _kind(node_id: str) -> str:
    prefix = node_id.split(":", 1)[0]
    return {"p": "passage", "e": "entity", "f": "fact", "v": "event", "h": "hyperedge", "ep": "episode"}.get(
        prefix, "node"
    )


class AsyncMemory:
    """``Memory`` with awaitable methods (same names, same arguments, same results).

    >>> async def main():                                          # doctest: +SKIP
    ...     async with AsyncMemory("sqlite:///demo.db") as mem:
    ...         await mem.add("Ada Lovelace was born in London.")
    ...         return await mem.search("Where was Ada born?")
    """

    def __init__(self, store: Store | str = DEFAULT_STORE, **kwargs: Any) -> None:
        self.sync = Memory(store, **kwargs)
        self.store = self.sync.store
        self.embedder = self.sync.embedder

    async def add(self, text: str, **kwargs: Any) -> IngestReport:
        return await asyncio.to_thread(self.sync.add, text, **kwargs)

    async def add_many(self, docs: Iterable[DocumentLike], **kwargs: Any) -> IngestReport:
        return await asyncio.to_thread(self.sync.add_many, list(docs), **kwargs)

    async def search(self, question: str, **kwargs: Any) -> SearchResult:
        return await asyncio.to_thread(self.sync.search, question, **kwargs)

    async def delete(self, *, source: str, namespace: str | None = None) -> DeleteReport:
        return await asyncio.to_thread(self.sync.delete, source=source, namespace=namespace)

    async def delete_namespace(self, namespace: str) -> DeleteReport:
        return await asyncio.to_thread(self.sync.delete_namespace, namespace)

    async def get_entity(self, id_or_name: str, **kwargs: Any) -> Entity | None:
        return await asyncio.to_thread(self.sync.get_entity, id_or_name, **kwargs)

    async def get_passage(self, passage_id: str, **kwargs: Any) -> Passage | None:
        return await asyncio.to_thread(self.sync.get_passage, passage_id, **kwargs)

    async def neighbors(self, node_id: str, **kwargs: Any) -> list[Neighbor]:
        return await asyncio.to_thread(self.sync.neighbors, node_id, **kwargs)

    async def stats(self, namespace: str | None = None) -> Stats:
        return await asyncio.to_thread(self.sync.stats, namespace)

    async def retry_failed(self, **kwargs: Any) -> IngestReport:
        return await asyncio.to_thread(self.sync.retry_failed, **kwargs)

    async def close(self) -> None:
        await asyncio.to_thread(self.sync.close)

    async def __aenter__(self) -> AsyncMemory:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
