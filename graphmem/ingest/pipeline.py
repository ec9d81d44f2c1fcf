"""The ingest pipeline: documents -> passages -> extraction -> resolution -> embeddings -> one write.

Per batch of documents:

0. each document is cut into passages (:mod:`graphmem.ingest.chunking`: sections, paragraphs,
   embedder tokens); a short document without structure stays one passage, as it always was;
1. passages get content-hash ids; those already stored are skipped (failed ones too, unless
   retrying), so re-running an ingest does nothing;
2. extraction is looked up in the cache by (passage hash, extractor, version), the rest extracted;
   a passage whose extraction failed is still stored, marked ``failed`` with the error, for retry;
   the next batch is extracted on a worker thread while this one is written (:mod:`.ahead`);
3. entities merge by normalized name (their id); a short name resolves to the one full name it
   is part of in its document, else in the namespace ("Priya" → "Priya Natarajan"), or gets a
   split SYNONYM edge to each of several; new entities get SYNONYM edges to close ones; a fact
   whose object is a value (a date, a quantity) keeps it as an attribute, not as an entity;
4. every text needing a vector (passage, entity name, fact, event) is looked up in the embedding
   cache by (model, text hash) and only the missing ones are embedded, in batches;
5. everything goes to the store as one :class:`~graphmem.store.base.WriteBatch`: one transaction.

With ``replace_sources``, a file document's source (``metadata["format"]`` set by the loaders)
is replaced: once its new passages are written, its stored passages not among them are deleted
(:meth:`~graphmem.store.base.Store.delete_stale`), so a crash in between loses nothing.

>>> Ingestor.__name__
'Ingestor'
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import Protocol

import numpy as np

from graphmem.embed.base import Embedder
from graphmem.extract.base import Extraction, Extractor
from graphmem.ids import entity_id, event_id, fact_id, normalize_name
from graphmem.ingest.ahead import PreparedDocs, Submit, run_ahead, run_now, start_extraction
from graphmem.ingest.chunking import Chunker, ChunkSettings, embedder_counter
from graphmem.ingest.dates import fold_dates
from graphmem.ingest.passages import extraction_key, to_passages
from graphmem.ingest.resolve import (
    Resolution,
    ResolverSettings,
    load_names,
    resolve_documents,
    synonym_edges,
)
from graphmem.ingest.stored import merge_entities, merge_facts
from graphmem.models import Document, Edge, Entity, Event, Fact, IngestReport, Passage
from graphmem.names import VALUE_TYPES, NameIndex
from graphmem.store.base import Store, WriteBatch, WriteResult, embed_key, embed_text
from graphmem.timeparse import resolve_time

log = logging.getLogger(__name__)


class BatchHook(Protocol):
    """A step run on every batch after embedding and merging, just before the write.

    It may add or replace nodes and edges (fact invalidation, hyperedges); new nodes need their
    vectors in ``batch.vectors`` (see :func:`graphmem.ingest.hyperedges.ensure_vectors`). It gets
    the store and embedder it may read or embed with, nothing else of the pipeline.
    """

    def __call__(
        self, store: Store, embedder: Embedder, batch: WriteBatch, report: IngestReport
    ) -> None: ...


class Ingestor:
    """Runs the pipeline for one store, embedder and extractor (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        extractor: Extractor | None,
        resolver: ResolverSettings = ResolverSettings(),
        hooks: Sequence[BatchHook] = (),
        chunking: ChunkSettings = ChunkSettings(),
        *,
        extract_ahead: bool = True,
    ) -> None:
        self.store, self.embedder = store, embedder
        self.extractor, self.resolver = extractor, resolver
        #: run on every batch, in order, just before it is written (see :data:`BatchHook`)
        self.hooks: list[BatchHook] = list(hooks)
        #: full PERSON/ORG names per namespace, loaded from the store on first use
        self._names: dict[str, NameIndex] = {}
        self.chunking = chunking
        self._chunker: Chunker | None = None
        #: extract the next batch on a worker thread while one is written (:mod:`.ahead`)
        self.extract_ahead = extract_ahead

    def name_index(self, namespace: str) -> NameIndex:
        """The namespace's full PERSON/ORG names (read once from the store, then kept in step)."""
        if namespace not in self._names:
            self._names[namespace] = load_names(self.store, namespace)
        return self._names[namespace]

    def resolve_names(
        self,
        namespace: str,
        passages: Sequence[Passage],
        extractions: Sequence[Extraction],
        report: IngestReport | None = None,
    ) -> dict[str, Resolution]:
        """How each document's mentions resolve (by passage id; a document is one source).

        A document whose names fail to resolve keeps them as they are (counted in ``report``).
        """
        failed: list[str] = []
        out = resolve_documents(self.name_index(namespace), passages, extractions, failed=failed)
        if report is not None:
            report.documents_unresolved += len(failed)
        return out

    @property
    def chunker(self) -> Chunker:
        """The chunker, counting with the embedder's tokenizer (loaded on first use)."""
        if self._chunker is None:
            self._chunker = Chunker(self.chunking, embedder_counter(self.embedder))
        return self._chunker

    # -- extraction ---------------------------------------------------------------------------
    def extract(self, passages: Sequence[Passage], report: IngestReport) -> list[Extraction]:
        """Extractions of ``passages`` (cached ones looked up), in order."""
        return start_extraction(self.extractor, self.store, passages, report)()

    def remember_extractions(
        self, batch: WriteBatch, passages: Sequence[Passage], extractions: Sequence[Extraction]
    ) -> None:
        """Put the successful extractions in ``batch`` for the cache (cacheable extractors)."""
        extractor = self.extractor
        if extractor is None or not extractor.cacheable:
            return
        for p, ex in zip(passages, extractions, strict=True):
            if ex.error is None:
                batch.extractions[extraction_key(extractor, p)] = ex.model_dump_json(
                    exclude_defaults=True
                )

    # -- building nodes -----------------------------------------------------------------------
    def build(
        self,
        namespace: str,
        passages: Sequence[Passage],
        extractions: Sequence[Extraction],
        *,
        document_rules: bool = True,
        report: IngestReport | None = None,
    ) -> WriteBatch:
        """The batch of nodes and edges ``extractions`` make (passages as their provenance).

        ``document_rules``: short names resolve to full names and dates and quantities stay in
        their facts' text instead of becoming nodes (documents). Episodes keep neither: speakers
        go by one name across sessions, and a conversation's "when" and "how many" questions are
        answered through the facts that join an episode to its value. Measured on locomo_dev
        (R@10): with both rules 66.3 overall, multi-hop 33.2, adversarial 64.1; without them
        67.1, 36.7 and 65.5.
        """
        batch = WriteBatch(namespace=namespace)
        entities: dict[str, Entity] = {}
        facts: dict[str, Fact] = {}
        events: dict[str, Event] = {}
        edges: dict[tuple[str, str, str], Edge] = {}
        resolutions = (
            self.resolve_names(namespace, passages, extractions, report)
            if document_rules
            else {p.id: Resolution() for p in passages}
        )
        merges: dict[str, str] = {}

        def entity(name: str, etype: str | None = None) -> str | None:
            full = merges.get(name.strip())
            if full is None or full == name.strip() or not normalize_name(name):
                return node(name, etype)
            # merges are settled (resolve.settle_merges): one step, never a chain or a cycle
            eid = node(full, known.type_of(full))
            if eid is not None and name.strip() not in entities[eid].aliases:
                entities[eid].aliases.append(name.strip())
            return eid

        def node(name: str, etype: str | None) -> str | None:
            norm = normalize_name(name)
            if not norm:
                return None
            eid = entity_id(namespace, name)
            ent = entities.get(eid)
            if ent is None:
                entities[eid] = Entity(
                    id=eid, namespace=namespace, name=name.strip(), normalized=norm, type=etype
                )
            else:
                if etype and not ent.type:
                    ent.type = etype
                if name.strip() != ent.name and name.strip() not in ent.aliases:
                    ent.aliases.append(name.strip())
            return eid

        def edge(etype: str, src: str, dst: str, weight: float = 1.0) -> None:
            key = (etype, src, dst)
            if key not in edges:
                edges[key] = Edge(type=etype, src=src, dst=dst, namespace=namespace, weight=weight)

        # episodes resolve no names: no need to read the namespace's
        known = self.name_index(namespace) if document_rules else NameIndex()
        for passage, ex in zip(passages, extractions, strict=True):
            if ex.error is not None:
                passage.status, passage.error = "failed", ex.error[:2000]
            else:
                passage.status, passage.error = "ok", None
            base_time = _passage_time(passage)
            resolution = resolutions[passage.id]
            merges = resolution.merges
            types = {normalize_name(e.name): e.type for e in ex.entities}
            for e in ex.entities:
                if document_rules and e.type in VALUE_TYPES:
                    continue  # a value is an attribute of its facts, not a node of the walk
                eid = entity(e.name, e.type)
                if eid:
                    edge("MENTIONS", passage.id, eid)
            for name, links in resolution.links.items():
                src = entity(name, types.get(normalize_name(name)))
                for full, weight in links:
                    dst = entity(full, known.type_of(full))
                    if src and dst and src != dst:
                        edge("SYNONYM", src, dst, weight)
            # a date beside a fact of the same verb is that fact's time, not a loop of its own
            for f in fold_dates(ex.facts, types, passage.text) if document_rules else ex.facts:
                subj, obj = merges.get(f.subject.strip(), f.subject), f.object
                value = document_rules and types.get(normalize_name(obj)) in VALUE_TYPES
                if not value:
                    obj = merges.get(obj.strip(), obj)
                pred = " ".join(f.predicate.split())
                s = entity(f.subject)
                o = s if value else entity(f.object)
                if not s or not o or not pred or not normalize_name(obj):
                    continue
                edge("MENTIONS", passage.id, s)
                edge("MENTIONS", passage.id, o)
                # a value object is kept in the fact's text and id only: the fact loops on its
                # subject, a loop never enters the PageRank graph, so "2017" joins no passages
                fid = fact_id(namespace, subj, pred, obj)
                if fid not in facts:
                    facts[fid] = Fact(
                        id=fid,
                        namespace=namespace,
                        subject=s,
                        predicate=pred,
                        object=o,
                        text=f"{subj.strip()} {pred} {obj.strip()}",
                        confidence=f.confidence,
                        valid_at=resolve_time(f.valid_at, base_time) if f.valid_at else None,
                    )
                edge("STATES", passage.id, fid)
            for ev in ex.events:
                desc = " ".join(ev.description.split())
                if not desc:
                    continue
                vid = event_id(namespace, desc, ev.time)
                participants = list(dict.fromkeys(p for p in map(entity, ev.participants) if p))
                events[vid] = Event(
                    id=vid,
                    namespace=namespace,
                    description=desc,
                    time=resolve_time(ev.time, base_time),
                    time_text=ev.time,
                    participants=participants,
                )
                edge("STATES", passage.id, vid)
                for pid in participants:
                    edge("INVOLVES", vid, pid)
                    edge("MENTIONS", passage.id, pid)

        batch.passages = list(passages)
        batch.entities = list(entities.values())
        batch.facts = list(facts.values())
        batch.events = list(events.values())
        batch.edges = list(edges.values())
        return batch

    # -- embeddings ---------------------------------------------------------------------------
    def _embed(
        self, batch: WriteBatch, report: IngestReport, stored: set[str]
    ) -> dict[str, np.ndarray]:
        """Vectors of the batch's nodes; only those of ``stored`` (ids this namespace already
        holds) are looked up in the shared vector table: a hit on a text only another namespace
        holds would reveal that it holds it, so such a text is embedded like a new one."""
        texts: dict[str, str] = {}
        known: list[str] = []
        for node in batch.nodes():
            key = embed_key(node)
            texts.setdefault(key, embed_text(node))
            if node.id in stored:
                known.append(key)
        cached = self.store.cached_vectors(self.embedder.name, known) if known else {}
        missing = [key for key in texts if key not in cached]
        report.embedding_cache_hits += len(texts) - len(missing)
        report.texts_embedded += len(missing)
        vectors: dict[str, np.ndarray] = dict(cached)
        if missing:
            fresh = self.embedder.embed([texts[key] for key in missing], kind="passage")
            new = dict(zip(missing, fresh, strict=True))
            batch.vectors.update(new)
            vectors.update(new)
        batch.embedding_model = self.embedder.name
        return vectors

    # -- the whole batch ----------------------------------------------------------------------
    def prepare_batch(
        self,
        namespace: str,
        docs: Sequence[Document],
        report: IngestReport,
        *,
        retry_failed: bool = False,
        offset: int = 0,
        produced: dict[str, set[str]] | None = None,
        submit: Submit = run_now,
    ) -> PreparedDocs:
        """A batch of documents cut into passages, those to store found and their extraction
        ``submit``-ted; :meth:`write_batch` writes it. ``produced``: filled with source ->
        passage ids of the file documents (for replacing)."""
        passages: dict[str, Passage] = {}
        # Every (passage, source) of the batch: the same text from several sources keeps them all.
        sources: dict[tuple[str, str], None] = {}
        total = 0
        for i, doc in enumerate(docs):
            made = to_passages(doc, namespace, self.chunker, offset + i)
            total += len(made)
            for p in made:
                passages.setdefault(p.id, p)
                if p.source is not None:
                    sources[(p.id, p.source)] = None
            if produced is not None and doc.source and "format" in doc.metadata:
                produced.setdefault(doc.source, set()).update(p.id for p in made)
        existing = self.store.existing_passages(namespace, list(passages))
        todo = [
            p
            for pid, p in passages.items()
            if pid not in existing or (retry_failed and existing[pid] == "failed")
        ]
        report.passages_skipped += total - len(todo)
        extracted = start_extraction(self.extractor, self.store, todo, report, submit)
        return PreparedDocs(todo, list(sources), existing, extracted, len(docs))

    def write_batch(
        self, namespace: str, prepared: PreparedDocs, report: IngestReport, written: set[str]
    ) -> None:
        """Write a prepared batch in one store transaction, updating ``report`` (``written``:
        the passages written before it, by this ingest)."""
        extractions = prepared.extracted()
        # a passage twice in a row, prepared before its first copy was written, is written once
        keep = [i for i, p in enumerate(prepared.todo) if p.id not in written]
        report.passages_skipped += len(prepared.todo) - len(keep)
        todo = [prepared.todo[i] for i in keep]
        if not todo:
            if prepared.sources:  # stored passages, perhaps from another source now
                self.store.write(WriteBatch(namespace=namespace, sources=prepared.sources))
            return
        extractions = [extractions[i] for i in keep]
        batch = self.build(namespace, todo, extractions, report=report)
        batch.sources = prepared.sources
        self.remember_extractions(batch, todo, extractions)
        result = self.commit(namespace, batch, report)
        written.update(p.id for p in todo)
        # Count what this process wrote: another one may have stored the same passages first.
        existing = prepared.existing
        mine = [
            p
            for p in todo
            if result is None or p.id in result.new_ids.get("passage", ()) or p.id in existing
        ]
        failed = sum(1 for p in mine if p.status == "failed")
        for p in todo:
            if p.status == "failed":
                log.warning("extraction failed for passage %s (%s): %s", p.id, p.source, p.error)
        report.passages_added += len(mine) - failed
        report.passages_failed += failed
        report.passages_skipped += len(todo) - len(mine)

    # -- the write, shared with episode ingest and notes ---------------------------------------
    def commit(self, namespace: str, batch: WriteBatch, report: IngestReport) -> WriteResult | None:
        """Embed, merge with stored rows, run the hooks, add synonym edges, write.

        Where the store offers ``exclusive()`` (SQLite), the stored entities are read again, the
        synonyms found and the batch written under its write lock: an ingest running beside this
        one cannot commit in between, so the edges are those of one ingest after the other."""
        known_entities = self.store.get_entities(namespace, [e.id for e in batch.entities])
        known_facts = self.store.get_facts(namespace, [f.id for f in batch.facts])
        stored = set(known_entities) | set(known_facts)
        stored.update(self.store.existing_passages(namespace, [p.id for p in batch.passages]))
        vectors = self._embed(batch, report, stored)
        merge_entities(batch, known_entities)
        merge_facts(batch, known_facts)
        for hook in self.hooks:
            hook(self.store, self.embedder, batch, report)
        exclusive = getattr(self.store, "exclusive", None)
        with exclusive(f"resolving a batch in {namespace!r}") if exclusive else nullcontext():
            if exclusive is not None:  # what another ingest stored since the first read
                known_entities = self.store.get_entities(namespace, [e.id for e in batch.entities])
                merge_entities(batch, known_entities)
            new_entities = [e for e in batch.entities if e.id not in known_entities]
            found_synonyms = 0
            if new_entities:
                vecs = {**batch.vectors, **vectors}  # hooks add entities (ingest/statements.py)
                mat = np.stack([vecs[embed_key(e)] for e in new_entities]).astype(np.float32)
                types = {e.id: e.type for e in new_entities}
                syn = synonym_edges(
                    self.store, namespace, [e.id for e in new_entities], mat, self.resolver, types
                )
                batch.edges.extend(syn)
                found_synonyms = len(syn)
            result = self.store.write(batch)
        if result is None:  # the store cannot tell what was new: what we found missing before
            report.synonym_edges += found_synonyms
            report.entities_added += len(new_entities)
            report.facts_added += sum(1 for f in batch.facts if f.id not in known_facts)
            report.events_added += len(batch.events)
        else:
            report.synonym_edges += result.new_edges.get("SYNONYM", 0)
            report.entities_added += result.count("entity")
            report.facts_added += result.count("fact")
            report.events_added += result.count("event")
        return result

    def ingest(
        self,
        namespace: str,
        docs: Iterable[Document],
        *,
        batch_size: int = 64,
        retry_failed: bool = False,
        on_progress: Callable[[int], None] | None = None,
        replace_sources: bool = False,
    ) -> IngestReport:
        """Ingest documents in batches; each batch is one transaction. Returns the totals.

        ``replace_sources``: file documents replace their source's stored passages (see the
        module docstring).
        """
        report = IngestReport()
        start = time.perf_counter()
        produced: dict[str, set[str]] | None = {} if replace_sources else None
        written: set[str] = set()

        def chunks() -> Iterator[tuple[int, list[Document]]]:
            chunk: list[Document] = []
            seen = 0
            for doc in docs:
                chunk.append(doc)
                if len(chunk) >= batch_size:
                    yield seen, chunk
                    seen += len(chunk)
                    chunk = []
            if chunk:
                yield seen, chunk

        def prepare(item: tuple[int, list[Document]], submit: Submit) -> PreparedDocs:
            offset, chunk = item
            return self.prepare_batch(
                namespace,
                chunk,
                report,
                retry_failed=retry_failed,
                offset=offset,
                produced=produced,
                submit=submit,
            )

        def finish(prepared: PreparedDocs) -> None:
            self.write_batch(namespace, prepared, report, written)
            if on_progress:
                on_progress(prepared.size)

        run_ahead(chunks(), prepare, finish, ahead=self.extract_ahead and bool(self.extractor))
        for source, keep in (produced or {}).items():
            gone = self.store.delete_stale(namespace, source, sorted(keep))
            if gone.passages:
                log.info("%s changed: %d old passage(s) replaced", source, gone.passages)
        report.seconds = time.perf_counter() - start
        return report


def _passage_time(passage: Passage) -> datetime | None:
    raw = passage.metadata.get("time")
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            return None
    return None
