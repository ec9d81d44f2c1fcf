"""Episode ingest (AriGraph): conversation turns and observations, in time, with their evidence.

An :class:`~graphmem.models.Episode` is one turn or observation at a point in time. Ingesting one:

1. **Time.** ``time`` is required: a ``datetime`` (naive ones are UTC), an ISO string, or a date
   as people write it ("1:56 pm on 8 May, 2023"). Missing or unparseable: :class:`InputError`
   naming the episode and the field. Relative times in the text ("yesterday", "last week", "two
   days ago") are resolved against the episode's time, offline (dateparser), and kept in
   ``metadata["times"]`` as ``[[text, ISO time], ...]``; the extractor's event times are resolved
   the same way. A fact stated in a sentence with such an expression ("I moved to Lisbon last
   month") holds from that time, not from the episode's
   (:func:`graphmem.timeparse.date_facts`).
2. **Text.** With a speaker, the stored and embedded text is ``"speaker: text"`` (a turn's words
   alone do not say who said them, and questions usually name the person); the words as said are
   in ``metadata["text"]``. ``metadata["caption"]`` (e.g. a description of a shared image) is
   extracted from but not embedded.
3. **Extraction**, like a passage, on the words with first-person pronouns replaced by the
   speaker's name ("I moved to Paris" → "Caroline moved to Paris") and, in a session of two
   speakers, second-person ones by the other speaker's, so facts about people come out.
   ``EVIDENCE`` edges tie the episode to each entity, fact and event it produced.
4. **Session and speaker** are entities (types ``SESSION`` and ``PERSON``) with ``EVIDENCE`` edges
   from each of their episodes (lighter weights: they join many episodes).
5. **NEXT** edges chain a session's episodes in time order (earlier → later; equal times keep the
   order of arrival, or ``metadata["seq"]`` when given). Episodes arriving out of order are placed
   by time: a late one links to both neighbours; the link its neighbours already had stays (ingest
   never deletes edges). Episodes without a session are not chained.
6. One write per batch, with the ingest hooks (fact invalidation, hyperedges).

Re-ingesting an episode (same namespace, session, time, speaker and words) does nothing.

>>> parse_time("1:56 pm on 8 May, 2023").isoformat()
'2023-05-08T13:56:00+00:00'
>>> first_person("I think my cat likes me.", "Ada")
"Ada thinks Ada's cat likes Ada."
"""

from __future__ import annotations

import logging
import time as _time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from graphmem.errors import InputError
from graphmem.extract.base import Extraction
from graphmem.ids import entity_id, episode_id, normalize_name
from graphmem.ingest.ahead import Submit, run_ahead, start_extraction
from graphmem.ingest.passages import MAX_PASSAGE_CHARS
from graphmem.ingest.pipeline import Ingestor
from graphmem.ingest.pronouns import first_person
from graphmem.models import Edge, Entity, Episode, EpisodeIn, EpisodeReport, Passage
from graphmem.store.base import WriteBatch
from graphmem.timeparse import RELATIVE, date_facts, resolve_time, time_expressions

log = logging.getLogger(__name__)


def parse_time(value: object, *, where: str = "episode", field_name: str = "time") -> datetime:
    """An aware datetime from a datetime, ISO text or written date; InputError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError(
            f"{where} has no time: every episode needs one "
            "(pass time=datetime.now(timezone.utc) for 'now')",
            field=field_name,
        )
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            # absolute dates only: "yesterday" has no meaning without a reference time
            if RELATIVE.search(text):
                parsed = None
            else:
                parsed = resolve_time(text, datetime(2000, 1, 1, tzinfo=UTC))
        if parsed is not None:
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
        raise InputError(f"{where}: cannot read {text[:80]!r} as a date and time", field=field_name)
    raise InputError(
        f"{where}: time must be a datetime or a string, got {type(value).__name__}",
        field=field_name,
    )


@dataclass(frozen=True)
class EpisodeIngestSettings:
    """Knobs of episode ingest (see the module docstring)."""

    speaker_prefix: bool = True
    rewrite_pronouns: bool = True
    #: EVIDENCE edge weights (times the PageRank weight of EVIDENCE) to the speaker and session
    speaker_weight: float = 0.3
    session_weight: float = 0.3
    #: NEXT edge weight (times the PageRank weight of NEXT)
    next_weight: float = 1.0
    #: extract the next batch on a worker thread while one is written (:mod:`.ahead`)
    extract_ahead: bool = True


@dataclass
class _Item:
    episode: Episode
    words: str
    seq: float


@dataclass
class _Prepared:
    """A chunk's new episodes, the texts their extraction reads, and that extraction."""

    todo: list[_Item]
    passages: list[Passage]
    extracted: Callable[[], list[Extraction]]
    size: int


@dataclass
class _Session:
    """What one ingest call knows about a session: its episodes in order, and its speakers."""

    order: list[tuple[datetime, float, str]] = field(default_factory=list)
    speakers: dict[str, int] = field(default_factory=dict)


def make_episode(
    namespace: str,
    item: EpisodeIn,
    position: int = 0,
    settings: EpisodeIngestSettings | None = None,
) -> Episode:
    """The :class:`Episode` ``item`` becomes (its id, text, time, metadata); no I/O.

    >>> ep = make_episode("default", EpisodeIn(text="Hi!", time="2024-01-01", speaker="Ada"))
    >>> ep.text, ep.metadata["text"]
    ('Ada: Hi!', 'Hi!')
    """
    cfg = settings or EpisodeIngestSettings()
    where = f"episode {position}"
    words = item.text.strip() if isinstance(item.text, str) else ""
    caption = item.metadata.get("caption")
    if not words and not (isinstance(caption, str) and caption.strip()):
        raise InputError(f"{where} has empty text", field="text")
    if len(words) > MAX_PASSAGE_CHARS:
        raise InputError(
            f"{where} is {len(words):,} characters, over the {MAX_PASSAGE_CHARS:,} limit",
            field="text",
        )
    when = parse_time(item.time, where=where)
    speaker = item.speaker.strip() if item.speaker and item.speaker.strip() else None
    session = None if item.session is None else str(item.session).strip() or None
    eid = episode_id(namespace, session, when.isoformat(), speaker, words)
    text = words or str(caption).strip()
    if speaker and cfg.speaker_prefix:
        text = f"{speaker}: {text}"
    metadata = dict(item.metadata)
    metadata["text"] = words
    times = time_expressions(words, when)
    if times:
        metadata["times"] = times
    return Episode(
        id=eid,
        namespace=namespace,
        text=text,
        time=when,
        speaker=speaker,
        session=session,
        source=item.source,
        metadata=metadata,
    )


def session_entity(namespace: str, session: str) -> Entity:
    name = f"session {session}"
    return Entity(
        id=entity_id(namespace, name),
        namespace=namespace,
        name=name,
        normalized=normalize_name(name),
        type="SESSION",
    )


class EpisodeIngestor:
    """Ingests episodes through an :class:`~graphmem.ingest.pipeline.Ingestor` (its extractor,
    embedder, hooks and store), one transaction per batch."""

    def __init__(self, ingestor: Ingestor, settings: EpisodeIngestSettings | None = None) -> None:
        self.ingestor = ingestor
        self.settings = settings or EpisodeIngestSettings()

    # -- input ---------------------------------------------------------------------------------
    def to_episode(self, namespace: str, item: EpisodeIn, position: int) -> _Item:
        episode = make_episode(namespace, item, position, self.settings)
        seq_raw = episode.metadata.get("seq")
        seq = float(seq_raw) if isinstance(seq_raw, (int, float)) else float("nan")
        return _Item(episode, str(episode.metadata["text"]), seq)

    # -- the pipeline --------------------------------------------------------------------------
    def ingest(
        self,
        namespace: str,
        items: Iterable[EpisodeIn | Mapping[str, Any]],
        *,
        batch_size: int = 64,
        on_progress: Callable[[int], None] | None = None,
    ) -> EpisodeReport:
        """Ingest episodes in batches (one transaction each); returns the totals. The next
        batch's extraction runs while a batch is embedded and written (:mod:`.ahead`)."""
        report = EpisodeReport()
        start = _time.perf_counter()
        sessions: dict[str, _Session] = {}
        written: set[str] = set()

        def chunks() -> Iterator[list[_Item]]:
            chunk: list[_Item] = []
            for position, raw in enumerate(items):
                chunk.append(self.to_episode(namespace, _coerce(raw, position), position))
                if len(chunk) >= batch_size:
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk

        def finish(prepared: _Prepared) -> None:
            self._write(namespace, prepared, sessions, report, written)
            if on_progress:
                on_progress(prepared.size)

        run_ahead(
            chunks(),
            lambda chunk, submit: self._prepare(namespace, chunk, sessions, report, submit),
            finish,
            ahead=self.settings.extract_ahead and self.ingestor.extractor is not None,
        )
        report.seconds = _time.perf_counter() - start
        return report

    def _session(self, namespace: str, name: str, sessions: dict[str, _Session]) -> _Session:
        """The session's stored episodes (read once per ingest call, through its entity)."""
        state = sessions.get(name)
        if state is not None:
            return state
        state = sessions[name] = _Session()
        store = self.ingestor.store
        sid = session_entity(namespace, name).id
        ids = sorted(
            {e.src for e in store.edges_of(namespace, [sid], ["EVIDENCE"]) if e.dst == sid}
        )
        for i, ep in enumerate(
            sorted(store.get_episodes(namespace, ids).values(), key=lambda e: (e.time, e.id))
        ):
            seq = ep.metadata.get("seq")
            state.order.append((ep.time, float(seq) if isinstance(seq, (int, float)) else i, ep.id))
            if ep.speaker:
                state.speakers[ep.speaker] = state.speakers.get(ep.speaker, 0) + 1
        state.order.sort()
        return state

    def _prepare(
        self,
        namespace: str,
        chunk: Sequence[_Item],
        sessions: dict[str, _Session],
        report: EpisodeReport,
        submit: Submit,
    ) -> _Prepared:
        """The chunk's new episodes and their texts, their extraction ``submit``-ted."""
        unique: dict[str, _Item] = {}
        for it in chunk:
            unique.setdefault(it.episode.id, it)
        stored = self.ingestor.store.get_episodes(namespace, list(unique))
        todo = [it for eid, it in unique.items() if eid not in stored]
        report.episodes_skipped += len(chunk) - len(todo)
        # Speakers of each session first, so "you" can name the other one.
        for it in todo:
            ep = it.episode
            if ep.session is not None:
                state = self._session(namespace, ep.session, sessions)
                if ep.speaker:
                    state.speakers[ep.speaker] = state.speakers.get(ep.speaker, 0) + 1
        passages = [self._passage(namespace, it, sessions) for it in todo]
        ingestor = self.ingestor
        extracted = start_extraction(ingestor.extractor, ingestor.store, passages, report, submit)
        return _Prepared(todo, passages, extracted, len(chunk))

    def _write(
        self,
        namespace: str,
        prepared: _Prepared,
        sessions: dict[str, _Session],
        report: EpisodeReport,
        written: set[str],
    ) -> None:
        """Build and write one prepared chunk (``written``: the episodes written before it)."""
        ingestor = self.ingestor
        extractions = prepared.extracted()
        # an episode twice in a row, prepared before its first copy was written, is written once
        keep = [i for i, it in enumerate(prepared.todo) if it.episode.id not in written]
        report.episodes_skipped += len(prepared.todo) - len(keep)
        if not keep:
            return
        todo = [prepared.todo[i] for i in keep]
        passages = [prepared.passages[i] for i in keep]
        extractions = [extractions[i] for i in keep]
        dated = [date_facts(p.text, ex) for p, ex in zip(passages, extractions, strict=True)]
        batch = ingestor.build(namespace, passages, dated, document_rules=False)
        # the cache keeps what the extractor said; the dating is redone from the text each time
        ingestor.remember_extractions(batch, passages, extractions)
        self._evidence(batch, todo, passages, extractions)
        self._next_edges(namespace, batch, todo, sessions)
        batch.passages = []
        batch.episodes = [it.episode for it in todo]
        ingestor.commit(namespace, batch, report)
        written.update(it.episode.id for it in todo)
        report.episodes_added += len(todo)

    def _passage(self, namespace: str, it: _Item, sessions: dict[str, _Session]) -> Passage:
        """The text the extractor reads for an episode (a passage that is never stored)."""
        ep = it.episode
        words = it.words
        caption = ep.metadata.get("caption")
        if ep.speaker and self.settings.rewrite_pronouns:
            other = None
            if ep.session is not None:
                names = [s for s in sessions[ep.session].speakers if s != ep.speaker]
                other = names[0] if len(names) == 1 else None
            words = first_person(words, ep.speaker, other)
        if isinstance(caption, str) and caption.strip():
            who = ep.speaker or "someone"
            words = f"{words}\n{who} shared {caption.strip()}".strip()
        return Passage(
            id=ep.id,
            namespace=namespace,
            text=words or ep.text,
            metadata={"time": ep.time.isoformat()},
        )

    def _evidence(
        self,
        batch: WriteBatch,
        todo: Sequence[_Item],
        passages: Sequence[Passage],
        extractions: Sequence[Extraction],
    ) -> None:
        """Provenance edges from episodes become EVIDENCE; speaker and session join in."""
        cfg, ns = self.settings, batch.namespace
        ids = {it.episode.id for it in todo}
        edges: dict[tuple[str, str, str], Edge] = {}
        for e in batch.edges:
            if e.src in ids and e.type in ("MENTIONS", "STATES"):
                e = e.model_copy(update={"type": "EVIDENCE"})
            edges.setdefault((e.type, e.src, e.dst), e)
        entities = {e.id: e for e in batch.entities}
        for it, ex in zip(todo, extractions, strict=True):
            ep = it.episode
            if ex.error is not None:
                ep.metadata["extraction_error"] = ex.error[:2000]
                log.warning("extraction failed for episode %s: %s", ep.id, ex.error)
            extra: list[tuple[Entity, float]] = []
            if ep.speaker:
                person = entities.get(entity_id(ns, ep.speaker)) or Entity(
                    id=entity_id(ns, ep.speaker),
                    namespace=ns,
                    name=ep.speaker,
                    normalized=normalize_name(ep.speaker),
                    type="PERSON",
                )
                person.type = person.type or "PERSON"
                extra.append((person, cfg.speaker_weight))
            if ep.session is not None:
                extra.append((session_entity(ns, ep.session), cfg.session_weight))
            for ent, weight in extra:
                if not ent.normalized:
                    continue
                entities.setdefault(ent.id, ent)
                key = ("EVIDENCE", ep.id, ent.id)
                if key in edges:
                    # the speaker is also named in the words: keep the stronger link
                    continue
                edges[key] = Edge(
                    type="EVIDENCE", src=ep.id, dst=ent.id, namespace=ns, weight=weight
                )
        batch.entities = list(entities.values())
        batch.edges = list(edges.values())

    def _next_edges(
        self,
        namespace: str,
        batch: WriteBatch,
        todo: Sequence[_Item],
        sessions: dict[str, _Session],
    ) -> None:
        """NEXT edges between each new episode and its neighbours in its session's time order."""
        touched: dict[str, list[str]] = {}
        for it in todo:
            ep = it.episode
            if ep.session is None:
                continue
            state = sessions[ep.session]
            seq = it.seq if it.seq == it.seq else float(len(state.order))  # NaN: arrival order
            ep.metadata["seq"] = seq
            state.order.append((ep.time, seq, ep.id))
            touched.setdefault(ep.session, []).append(ep.id)
        for name, new_ids in touched.items():
            order = sessions[name].order
            order.sort()
            pos = {eid: i for i, (_, _, eid) in enumerate(order)}
            for eid in new_ids:
                i = pos[eid]
                for a, b in ((i - 1, i), (i, i + 1)):
                    if a >= 0 and b < len(order):
                        (ta, _, ea), (tb, _, eb) = order[a], order[b]
                        gap = (tb - ta).total_seconds()
                        batch.edges.append(
                            Edge(
                                type="NEXT",
                                src=ea,
                                dst=eb,
                                namespace=namespace,
                                weight=self.settings.next_weight,
                                props={"gap_s": gap},
                            )
                        )


def _coerce(raw: EpisodeIn | Mapping[str, Any], position: int) -> EpisodeIn:
    if isinstance(raw, EpisodeIn):
        return raw
    try:
        return EpisodeIn.model_validate(dict(raw))
    except (ValidationError, TypeError, ValueError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        where = ".".join(str(x) for x in first["loc"]) if first else None
        raise InputError(f"episode {position}: {exc}", field=where) from exc


def __getattr__(name: str) -> Any:
    # EpisodeSettings was renamed EpisodeIngestSettings; the old name stays for one release
    if name == "EpisodeSettings":
        warnings.warn(
            "graphmem.ingest.episodes.EpisodeSettings is deprecated; use EpisodeIngestSettings",
            DeprecationWarning,
            stacklevel=2,
        )
        return EpisodeIngestSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
