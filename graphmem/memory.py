"""``Memory``: the facade that wires a store, an embedder and an extractor (async: ``AsyncMemory``).

>>> from graphmem import Memory
>>> with Memory("sqlite:///demo.db") as mem:                      # doctest: +SKIP
...     mem.add("Ada Lovelace was born in London.", source="notes/ada")
...     hit = mem.search("Where was Ada Lovelace born?", k=3).passages[0]
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence, Sized
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from graphmem.embed.base import Embedder
from graphmem.embed.make import make_embedder as make_embedder
from graphmem.errors import ConfigError, InputError
from graphmem.extract.base import Extractor
from graphmem.extract.make import EXTRACTORS as EXTRACTORS
from graphmem.extract.make import make_extractor as make_extractor
from graphmem.ids import ENTITY, check_namespace, entity_id, is_kind
from graphmem.ingest.episodes import EpisodeIngestor, EpisodeIngestSettings
from graphmem.ingest.hyperedges import HyperedgeHook, HyperSettings
from graphmem.ingest.notes import add_note
from graphmem.ingest.pipeline import Ingestor
from graphmem.ingest.resolve import ResolverSettings
from graphmem.ingest.sources import FileProblem as FileProblem
from graphmem.ingest.sources import iter_jsonl as iter_jsonl
from graphmem.ingest.sources import read_documents as read_documents
from graphmem.ingest.sources import read_episodes as read_episodes
from graphmem.ingest.sources import to_document
from graphmem.ingest.temporal import TemporalHook, TemporalSettings
from graphmem.lifecycle import consolidate as _consolidate
from graphmem.lifecycle import forget as _forget
from graphmem.lifecycle.states import lifecycle_of
from graphmem.lifecycle.strength import StrengthSettings
from graphmem.lifecycle.visible import search as visible_search
from graphmem.models import (
    ConsolidateReport,
    DeleteReport,
    Document,
    Entity,
    Episode,
    EpisodeIn,
    EpisodeReport,
    Event,
    Fact,
    FactHit,
    ForgetReport,
    Hyperedge,
    IngestReport,
    Lifecycle,
    Link,
    Neighbor,
    Passage,
    RestoreReport,
    SearchResult,
    Stats,
    top_facts,
)
from graphmem.operations import DocumentLike as DocumentLike
from graphmem.operations import EpisodeLike as EpisodeLike
from graphmem.operations import progress_step, renamed
from graphmem.retrieve.episodes import EpisodeSearchSettings
from graphmem.retrieve.passages import Namer
from graphmem.retrieve.passages import PassageSearchSettings as PassageSearchSettings
from graphmem.retrieve.results import facts_of, links, neighbors, nodes

# MAX_K and the other search limits are the search core's, re-exported for callers of old
from graphmem.retrieve.search import MAX_K as MAX_K
from graphmem.retrieve.search import MAX_QUESTION_CHARS as MAX_QUESTION_CHARS
from graphmem.retrieve.search import UNIT_CANDIDATES as UNIT_CANDIDATES
from graphmem.retrieve.search import UNITS as UNITS
from graphmem.retrieve.search import Between, Searcher
from graphmem.retrieve.warm import warm as warm_namespace
from graphmem.store import DEFAULT_STORE_URL as DEFAULT_STORE_URL
from graphmem.store.base import Store
from graphmem.store.export import delete_prefix, export_as

if TYPE_CHECKING:
    import networkx as nx

    from graphmem.viz.explain import Explanation


R = TypeVar("R", bound=IngestReport)


class Memory:
    """Knowledge-graph memory over one store.

    ``store``: a URL (``sqlite:///file.db``, ``neo4j://…``, ``falkordb://host:port``) or a Store;
    ``create=False`` opens only a store that exists (:class:`NotFound` otherwise).
    ``embedder``: ``"local"`` or an Embedder. ``extractor``: ``"nlp"``, ``"none"`` or an Extractor.
    ``namer``: names the entities a question mentions, which seed the walk (HippoRAG's query
    NER). ``"auto"``: the extractor's ``question_entities`` (spaCy's rules, the LLM's prompt), else
    spaCy's when it is installed (an extractor of precomputed triples has none); ``None``: none.

    Settings, each named for what it configures: ``passage_search``
    (:class:`~graphmem.retrieve.passages.PassageSearchSettings`), ``episode_search``
    (:class:`~graphmem.retrieve.episodes.EpisodeSearchSettings`), ``episode_ingest``
    (:class:`~graphmem.ingest.episodes.EpisodeIngestSettings`), ``resolver``, ``temporal`` (the
    functional-predicate rule, run by :attr:`temporal_hook`), ``hyperedges`` (run by
    :attr:`hyperedge_hook`) and ``strength`` (the forgetting curve:
    :class:`~graphmem.lifecycle.strength.StrengthSettings`). ``retrieval=``, ``episodes=`` and
    ``episodic=`` are the deprecated names of the first three.
    """

    def __init__(
        self,
        store: Store | str = DEFAULT_STORE_URL,
        *,
        embedder: Embedder | str = "local",
        extractor: Extractor | str | None = "nlp",
        namespace: str = "default",
        passage_search: PassageSearchSettings | None = None,
        resolver: ResolverSettings | None = None,
        episode_ingest: EpisodeIngestSettings | None = None,
        episode_search: EpisodeSearchSettings | None = None,
        temporal: TemporalSettings | None = None,
        hyperedges: HyperSettings | None = None,
        namer: Namer | str | None = "auto",
        strength: StrengthSettings | None = None,
        retrieval: PassageSearchSettings | None = None,
        episodes: EpisodeIngestSettings | None = None,
        episodic: EpisodeSearchSettings | None = None,
        create: bool = True,
    ) -> None:
        passage_search = renamed("retrieval", retrieval, "passage_search", passage_search)
        episode_ingest = renamed("episodes", episodes, "episode_ingest", episode_ingest)
        episode_search = renamed("episodic", episodic, "episode_search", episode_search)
        if isinstance(namer, str) and namer != "auto":
            raise ConfigError(f"unknown namer {namer!r}: use 'auto', None or a callable")
        if isinstance(store, str):
            from graphmem.store import open_store

            store = open_store(store, create=create)
        self.store: Store = store
        self.embedder: Embedder = make_embedder(embedder)
        self.extractor: Extractor | None = make_extractor(extractor)
        self.namespace = check_namespace(namespace)
        self.passage_search = passage_search or PassageSearchSettings()
        judge = getattr(self.extractor, "judge_update", None)  # an LLM's: ingest/judge.py
        self.temporal_hook = TemporalHook(temporal or TemporalSettings(), judge=judge)
        self.hyperedge_hook = HyperedgeHook(hyperedges or HyperSettings())
        self._ingestor = Ingestor(
            self.store,
            self.embedder,
            self.extractor,
            resolver or ResolverSettings(),
            hooks=[self.temporal_hook, self.hyperedge_hook],
        )
        self.episode_ingest = episode_ingest or EpisodeIngestSettings()
        self._episodes = EpisodeIngestor(self._ingestor, self.episode_ingest)
        self.episode_search = episode_search or EpisodeSearchSettings()
        self._namer_spec = namer
        self._namer: Namer | None = None
        self.strength = strength or StrengthSettings()

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
        """Ingest one text (a long one is chunked). Adding the same text again does nothing."""
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
        replace_sources: bool = False,
    ) -> IngestReport:
        """Ingest many documents, one transaction per ``batch_size`` of them.

        ``replace_sources``: documents read from files (:mod:`graphmem.ingest.loaders`) replace
        what their source stored before (a changed file's old chunks are deleted).
        """
        ns = self._ns(namespace)
        documents = (to_document(d) for d in docs)
        ingest = functools.partial(
            self._ingestor.ingest,
            ns,
            batch_size=batch_size,
            retry_failed=retry_failed,
            replace_sources=replace_sources,
        )
        items = list(documents) if progress else documents
        total = len(items) if isinstance(items, list) else None
        with progress_step(progress, total, "ingest", "doc", on_progress) as step:
            report = ingest(items, on_progress=step)
        return self._warm_after(ns, report.passages_added, batch_size, report)

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
        item = EpisodeIn(
            text=text,
            time=time,
            speaker=speaker,
            session=session,
            source=source,
            metadata=metadata or {},
        )
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
        total = len(episodes) if isinstance(episodes, Sized) else None
        with progress_step(progress, total, "episodes", "ep", on_progress) as step:
            report = self._episodes.ingest(ns, episodes, batch_size=batch_size, on_progress=step)
        return self._warm_after(ns, report.episodes_added, batch_size, report)

    def warm(self, namespace: str | None = None) -> None:
        """Build the namespace's search structures now (graph projection, vector and text
        indexes, what is derived from the fact table), so no question pays them; later writes
        keep them in step. A bulk ingest calls it at its end; a server may call it on open."""
        warm_namespace(self.store, self._ns(namespace))

    def _warm_after(self, ns: str, added: int, batch_size: int, report: R) -> R:
        # Only after a bulk ingest: single adds in a loop would rebuild per call what the next
        # question builds once anyway.
        if added >= batch_size:
            self.warm(ns)
        return report

    def add_note(
        self, text: str, *, members: Iterable[str] | None = None, namespace: str | None = None
    ) -> Hyperedge:
        """Store a note joining entities (a ``note`` hyperedge); returns it (merged, if it merged).

        ``members``: entity names or ids (created when new); default: the entities the
        extractor finds in ``text``.
        """
        ns = self._ns(namespace)
        return add_note(self._ingestor, self.hyperedge_hook.settings, ns, text, members)

    # -- search -------------------------------------------------------------------------------
    @property
    def namer(self) -> Namer | None:
        """What names a question's entities for the walk (see the class docstring), resolved on
        first use: spaCy's pipeline loads on the first search, not here."""
        if self._namer is None and self._namer_spec is not None:
            if not isinstance(self._namer_spec, str):
                self._namer = self._namer_spec
            elif (own := getattr(self.extractor, "question_entities", None)) is not None:
                self._namer = own
            else:
                from graphmem.extract.nlp import SpacyExtractor, spacy_installed

                if not spacy_installed():
                    self._namer_spec = None  # asked once; never again
                    return None
                self._namer = SpacyExtractor().question_entities
        return self._namer

    @property
    def searcher(self) -> Searcher:
        """The search core over this memory's store, embedder and settings (search, explain)."""
        return Searcher(
            self.store,
            self.embedder,
            self.passage_search,
            self.episode_search,
            namer=self.namer,
            recognizer=getattr(self.extractor, "recognize_facts", None),
            namespace=self.namespace,
        )

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
        the session neighbours of each episode hit). See :mod:`graphmem.retrieve.search`.
        """
        return visible_search(
            self.searcher, question, self.strength, k=k, namespace=namespace, as_of=as_of,
            between=between, include=include,
        )  # fmt: skip

    def search_facts(
        self,
        question: str,
        *,
        k: int = 5,
        namespace: str | None = None,
        as_of: datetime | None = None,
        include_ended: bool = False,
    ) -> list[FactHit]:
        """The facts answering ``question``, those that hold now (or at ``as_of``) first; ended
        ones only with ``include_ended`` (see :func:`graphmem.models.top_facts`)."""
        include = ["facts", "episodes"]
        found = self.search(question, k=k, namespace=namespace, as_of=as_of, include=include)
        return top_facts(found, k, as_of=as_of, include_ended=include_ended)

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
        eid = id_or_name if is_kind(id_or_name, ENTITY) else entity_id(ns, id_or_name)
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

    def to_networkx(self, namespace: str | None = None) -> nx.MultiDiGraph:
        """The namespace as a networkx ``MultiDiGraph``: every node with its properties, every
        edge, and a ``RELATES`` edge per fact (see :mod:`graphmem.store.networkx_graph`)."""
        from graphmem.store.networkx_graph import to_networkx

        return to_networkx(self.store, self._ns(namespace))

    def get_nodes(
        self, ids: Sequence[str], *, namespace: str | None = None
    ) -> dict[str, Passage | Entity | Fact | Event | Hyperedge | Episode]:
        """The stored nodes among ``ids``, by id (one store call per kind; unknown ids left out)."""
        return nodes(self.store, self._ns(namespace), ids)

    def links(self, ids: Sequence[str], *, namespace: str | None = None) -> dict[str, list[Link]]:
        """Every edge (or fact) from each of ``ids`` to a neighbour, in two store calls for all
        of them: what :meth:`neighbors` ranks, unranked and batched (the API's DataLoaders)."""
        return links(self.store, self._ns(namespace), ids)

    def facts_of(self, entity: str, *, namespace: str | None = None) -> list[Fact]:
        """The facts an entity (id or name) takes part in that memory has not superseded, those
        that hold first (then by text)."""
        return facts_of(self.store, self._ns(namespace), entity)

    def sources(self, prefix: str = "", *, namespace: str | None = None) -> list[str]:
        """The distinct sources stored (passages and episodes) that start with ``prefix``, sorted."""
        return self.store.sources(self._ns(namespace), prefix)

    def export(
        self,
        out: Path | IO[str] | IO[bytes],
        *,
        format: str = "jsonl",
        namespace: str | None = None,
    ) -> dict[str, int]:
        """Write the namespace's nodes and edges (no embeddings) to ``out`` as ``"jsonl"`` or
        ``"graphml"`` (:meth:`to_networkx`'s graph); the counts written, by kind."""
        return export_as(self.store, self._ns(namespace), out, format)

    # -- lifecycle (see graphmem.lifecycle) ----------------------------------------------------
    def lifecycle(self, node_id: str, *, namespace: str | None = None) -> Lifecycle | None:
        """A node's state (active, superseded, merged, archived), strength and history."""
        return lifecycle_of(self.store, self._ns(namespace), node_id, self.strength)

    def forget(
        self, *, policy: str, namespace: str | None = None, dry_run: bool = False
    ) -> ForgetReport:
        """Archive the facts and episodes ``policy`` selects (``"strength:<x>"``, ``"quota:<n>"``):
        out of default search, nothing deleted (see :mod:`graphmem.lifecycle.forget`)."""
        ns = self._ns(namespace)
        return _forget.forget(self.store, ns, policy, self.strength, dry_run=dry_run)

    def consolidate(
        self, *, namespace: str | None = None, dry_run: bool = False, summaries: bool = False
    ) -> ConsolidateReport:
        """Merge duplicate entities on alias evidence and fold repeated facts, each merge
        recorded and undone by :meth:`restore`; ``summaries``: a unit per session too (see
        :mod:`graphmem.lifecycle.consolidate`)."""
        units = self.embedder if summaries else None
        ns = self._ns(namespace)
        return _consolidate.consolidate(self.store, ns, dry_run=dry_run, summaries=units)

    def restore(
        self,
        ids: Sequence[str] | None = None,
        *,
        all_archived: bool = False,
        namespace: str | None = None,
    ) -> RestoreReport:
        """Bring archived or merged nodes (``ids``; all archived ones) back into default search."""
        ns = self._ns(namespace)
        return _forget.restore(self.store, ns, ids, all_archived=all_archived)

    def delete(self, *, source: str, namespace: str | None = None) -> DeleteReport:
        """Delete a source's passages and what only they supported (the source matched exactly)."""
        return self.store.delete_source(self._ns(namespace), source)

    def delete_prefix(self, prefix: str, *, namespace: str | None = None) -> DeleteReport:
        """Delete every source that starts with ``prefix`` (``"eng/"``), one source at a time."""
        return delete_prefix(self.store, self._ns(namespace), prefix)

    def delete_namespace(self, namespace: str) -> DeleteReport:
        return self.store.delete_namespace(self._ns(namespace))

    def stats(self, namespace: str | None = None) -> Stats:
        return self.store.stats(self._ns(namespace))

    def check(self, namespace: str | None = None) -> None:
        """Raise :class:`~graphmem.errors.StoreError` when the store is corrupt (a quick check,
        on stores that have one): run before trusting :meth:`stats`."""
        if (check := getattr(self.store, "check", None)) is not None:
            check(self._ns(namespace))

    def ping(self, timeout: float = 2.0) -> None:
        """Raise :class:`~graphmem.errors.StoreUnavailable` unless the store answers in time."""
        self.store.ping(timeout)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
