"""``Memory`` and ``AsyncMemory``: the facade that wires a store, an embedder and an extractor.

>>> from graphmem import Memory
>>> with Memory("sqlite:///demo.db") as mem:                      # doctest: +SKIP
...     mem.add("Ada Lovelace was born in London.", source="notes/ada")
...     hit = mem.search("Where was Ada Lovelace born?", k=3).passages[0]
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sized
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from graphmem.embed.base import Embedder
from graphmem.errors import ConfigError, GraphmemError, InputError
from graphmem.extract.base import Extractor
from graphmem.ids import ENTITY, check_namespace, entity_id, is_kind, normalize_name
from graphmem.ingest.episodes import EpisodeIngestor, EpisodeSettings
from graphmem.ingest.hyperedges import HyperedgeHook, HyperSettings, add_units, note_unit
from graphmem.ingest.pipeline import Ingestor
from graphmem.ingest.resolve import ResolverSettings
from graphmem.ingest.temporal import TemporalHook, TemporalSettings
from graphmem.models import (
    DeleteReport,
    Document,
    Entity,
    Episode,
    EpisodeIn,
    EpisodeReport,
    Hyperedge,
    IngestReport,
    Neighbor,
    Passage,
    SearchResult,
    Stats,
)
from graphmem.results import format_result, neighbors
from graphmem.retrieve.episodic import (
    EpisodicRetrieval,
    EpisodicSettings,
    episode_hits,
    fact_hits,
    retrieve_episodes,
)
from graphmem.retrieve.hippo import HippoSettings, Retrieval, retrieve
from graphmem.retrieve.hyper import hyperedge_hits
from graphmem.store.base import Store, WriteBatch
from graphmem.validity import is_current

if TYPE_CHECKING:
    from graphmem.viz.explain import Explanation

log = logging.getLogger(__name__)

DEFAULT_STORE = "sqlite:///graphmem.db"
MAX_K = 1000
MAX_QUESTION_CHARS = 10_000
#: hyperedges taken from the PageRank walk before fusing with their dense ranking
UNIT_CANDIDATES = 200

DocumentLike = Document | str | Mapping[str, Any]
EpisodeLike = EpisodeIn | Mapping[str, Any]
#: what ``search(include=...)`` may ask for
UNITS = ("passages", "facts", "entities", "episodes", "hyperedges", "context")
Between = tuple[datetime | None, datetime | None]


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
        episodes: EpisodeSettings | None = None,
        episodic: EpisodicSettings | None = None,
        temporal: TemporalSettings | None = None,
        hyperedges: HyperSettings | None = None,
    ) -> None:
        if isinstance(store, str):
            from graphmem.store import open_store

            store = open_store(store)
        self.store: Store = store
        self.embedder: Embedder = make_embedder(embedder)
        self.extractor: Extractor | None = make_extractor(extractor)
        self.namespace = check_namespace(namespace)
        self.retrieval = retrieval or HippoSettings()
        self.temporal = TemporalHook(temporal or TemporalSettings())
        self.hyperedges = HyperedgeHook(hyperedges or HyperSettings())
        self._ingestor = Ingestor(
            self.store,
            self.embedder,
            self.extractor,
            resolver or ResolverSettings(),
            hooks=[self.temporal, self.hyperedges],
        )
        self.episode_settings = episodes or EpisodeSettings()
        self._episodes = EpisodeIngestor(self._ingestor, self.episode_settings)
        self.episodic = episodic or EpisodicSettings()

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
                ns,
                documents,
                batch_size=batch_size,
                retry_failed=retry_failed,
                on_progress=on_progress,
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
            Document(text=p.text, source=p.source, title=p.title, metadata=p.metadata)
            for p in failed
        ]
        return self._ingestor.ingest(ns, docs, batch_size=batch_size, retry_failed=True)

    # -- episodes and notes ---------------------------------------------------------------------
    def add_episode(
        self,
        text: str,
        *,
        time: datetime | str | None,
        speaker: str | None = None,
        session: str | int | None = None,
        namespace: str | None = None,
        source: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> EpisodeReport:
        """Remember one turn or observation at ``time`` (see :mod:`graphmem.ingest.episodes`).

        >>> mem.add_episode("I moved to Lisbon.", time="2024-03-01T10:00", speaker="Ada",
        ...                 session="chat-1")  # doctest: +SKIP
        """
        item = EpisodeIn(text=text, time=time, speaker=speaker, session=session, source=source,
                         metadata=metadata or {})  # fmt: skip
        return self.add_episodes([item], namespace=namespace)

    def add_episodes(
        self,
        episodes: Iterable[EpisodeLike],
        *,
        namespace: str | None = None,
        batch_size: int = 64,
        progress: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> EpisodeReport:
        """Remember many episodes (dicts or :class:`EpisodeIn`), one transaction per batch.

        Streams: a generator of 10,000 turns is read batch by batch. ``progress`` shows a bar.
        """
        ns = self._ns(namespace)
        if not progress:
            return self._episodes.ingest(
                ns, episodes, batch_size=batch_size, on_progress=on_progress
            )
        from tqdm import tqdm

        total = len(episodes) if isinstance(episodes, Sized) else None
        with tqdm(total=total, desc="episodes", unit="ep") as bar:

            def step(n: int) -> None:
                bar.update(n)
                if on_progress:
                    on_progress(n)

            return self._episodes.ingest(ns, episodes, batch_size=batch_size, on_progress=step)

    def add_note(
        self, text: str, *, members: Iterable[str] | None = None, namespace: str | None = None
    ) -> Hyperedge:
        """Store a note joining entities (a ``note`` hyperedge); returns it (merged, if it merged).

        ``members``: entity names or ids (created when new); default: the entities the
        extractor finds in ``text``.
        """
        ns = self._ns(namespace)
        if not isinstance(text, str) or not text.strip():
            raise InputError("the note is empty", field="text")
        names = list(members) if members is not None else self._note_names(text)
        batch = WriteBatch(namespace=ns)
        ids: list[str] = []
        for name in names:
            if is_kind(name, ENTITY):
                ids.append(name)
                continue
            norm = normalize_name(name)
            if not norm:
                continue
            eid = entity_id(ns, name)
            ids.append(eid)
            batch.entities.append(Entity(id=eid, namespace=ns, name=name.strip(), normalized=norm))
        unit = note_unit(ns, text, ids)
        add_units(self.store, self.embedder, batch, [(unit, None)], self.hyperedges.settings)
        stored = next(
            (h for h in batch.hyperedges if unit.id == h.id or set(ids) <= set(h.members)), unit
        )
        self._ingestor.commit(ns, batch, IngestReport())
        return stored

    def _note_names(self, text: str) -> list[str]:
        if self.extractor is None:
            return []
        [ex] = self.extractor.extract([Passage(id="note", text=text)])
        return [e.name for e in ex.entities]

    # -- search -------------------------------------------------------------------------------
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
        """Passages and episodes answering ``question``, with the facts that led to them.

        ``as_of``: the world as it was then (facts valid then, episodes up to then).
        ``between=(start, end)``: episodes in that interval, facts that held during it.
        ``include``: which units to return, from :data:`UNITS` (default: all but "context",
        the session neighbours of each episode hit).
        """
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
        units = _units(include)
        if between is not None and (not isinstance(between, tuple) or len(between) != 2):
            raise InputError("between must be a (start, end) pair", field="between")
        t0 = time.perf_counter()
        q = self.embedder.embed([question], kind="query")[0]
        t1 = time.perf_counter()
        store = self.store
        want_passages = bool(units & {"passages", "facts", "entities"})
        want_episodes = bool(units & {"episodes", "context"})
        has_episodes = want_episodes and bool(store.vector_search(ns, "episode", q, 1)[0])
        # The passage walk runs unless the namespace holds only episodes (then the episodic
        # walk covers its facts); asking whether passages exist costs a query only then.
        has_passages = want_passages and (
            not has_episodes or bool(store.vector_search(ns, "passage", q, 1)[0])
        )
        if has_passages or not want_episodes:
            named = self._named_entities(ns, question)
            found = retrieve(self.store, ns, q, k, self.retrieval, as_of=as_of, named=named)
            has_passages = has_passages and bool(found.dense)
        else:
            found = Retrieval([], {}, [], {}, mode="episodic")
        episodic: EpisodicRetrieval | None = None
        if has_episodes:
            cfg = self.episodic
            if "context" in units and cfg.context == 0:
                cfg = replace(cfg, context=1)
            episodic = retrieve_episodes(store, ns, q, question, k, cfg, as_of=as_of,
                                         between=between)  # fmt: skip
        t2 = time.perf_counter()
        result = self._format(question, ns, found)
        if episodic is not None:
            result.episodes = episode_hits(self.store, ns, episodic, "context" in units)
            if not has_passages:
                result.facts = result.facts or fact_hits(self.store, ns, episodic.facts)
                result.mode = "episodic"
        if "hyperedges" in units:
            # the units the walks reached best (a few hundred at most, not every node)
            scores = dict(found.top("h:", UNIT_CANDIDATES))
            if episodic is not None:
                for nid, s in episodic.node_scores.items():
                    if nid.startswith("h:"):
                        scores[nid] = scores.get(nid, 0.0) + s
            result.hyperedges = hyperedge_hits(self.store, ns, q, k, scores)
        if as_of is None and between is None:
            # a question about now: facts that still hold first (the others stay, as history)
            result.facts.sort(key=lambda h: not is_current(h.fact))
        for name in ("passages", "facts", "entities"):
            if name not in units:
                setattr(result, name, [])
        t3 = time.perf_counter()
        result.timings_ms = {
            "embed": (t1 - t0) * 1e3,
            "retrieve": (t2 - t1) * 1e3,
            "format": (t3 - t2) * 1e3,
        }
        return result

    def _named_entities(self, ns: str, question: str) -> list[str]:
        """Ids of the entities the extractor names in the question (LLM extractors can)."""
        namer = getattr(self.extractor, "question_entities", None)
        if namer is None or self.retrieval.named_weight <= 0:
            return []
        try:
            names: list[str] = namer(question)
        except GraphmemError as exc:  # retrieval still works from the facts and passages
            log.warning("no entities named for the question: %s", exc)
            return []
        return [entity_id(ns, n) for n in names if normalize_name(n)]

    def _format(self, question: str, ns: str, found: Retrieval) -> SearchResult:
        return format_result(self.store, ns, question, found)

    def explain(self, question: str, *, k: int = 5, namespace: str | None = None) -> Explanation:
        """The subgraph behind an answer: seeds, PageRank scores, facts on the paths, passages.

        >>> mem.explain("Where was the author of Emma born?").to_html("answer.html")  # doctest: +SKIP
        """
        from graphmem.viz.explain import explain

        return explain(self, question, k=k, namespace=namespace)

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
        return neighbors(self.store, self._ns(namespace), node_id, limit=limit)

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


def _units(include: Iterable[str] | None) -> set[str]:
    if include is None:
        return set(UNITS) - {"context"}
    if isinstance(include, str):
        include = [include]
    units = set(include)
    unknown = units - set(UNITS)
    if unknown:
        raise InputError(
            f"unknown units {sorted(unknown)}: use some of {list(UNITS)}", field="include"
        )
    return units


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

    async def add_episode(self, text: str, **kwargs: Any) -> EpisodeReport:
        return await asyncio.to_thread(self.sync.add_episode, text, **kwargs)

    async def add_episodes(self, episodes: Iterable[EpisodeLike], **kwargs: Any) -> EpisodeReport:
        return await asyncio.to_thread(self.sync.add_episodes, episodes, **kwargs)

    async def add_note(self, text: str, **kwargs: Any) -> Hyperedge:
        return await asyncio.to_thread(self.sync.add_note, text, **kwargs)

    async def get_episode(self, episode_id: str, **kwargs: Any) -> Episode | None:
        return await asyncio.to_thread(self.sync.get_episode, episode_id, **kwargs)

    async def search(self, question: str, **kwargs: Any) -> SearchResult:
        return await asyncio.to_thread(self.sync.search, question, **kwargs)

    async def explain(self, question: str, **kwargs: Any) -> Explanation:
        return await asyncio.to_thread(self.sync.explain, question, **kwargs)

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
