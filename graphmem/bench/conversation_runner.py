"""The conversation benchmark (LoCoMo layout): evidence-turn recall of graphmem, dense and BM25.

The run: every turn of ``turns.jsonl`` is checked first (its ``session_time`` must read as a date:
nothing is written before that succeeds); each conversation is ingested as episodes into its own
namespace (``<base>.<conversation id>``), with its session as the episode's session, the session
time as the episode's time, the speaker, and the image caption (``blip_caption``) as
``metadata["caption"]``; then every question with evidence is asked three ways in its
conversation's namespace:

- **graphmem**: ``Memory.search(question, include=["episodes"])`` (episodic retrieval: dense,
  PageRank over episodes and entities, AriGraph fact overlap, NEXT neighbours, fused);
- **dense**: the same store's episode vectors ranked by cosine (the same text graphmem embeds);
- **BM25**: the same episode texts, per conversation.

A rank is an episode; it finds the ``dia_id`` of every turn it stands for (identical turns
collapse into one episode). Scores: evidence Recall@k (k = 5, 10, 25) over questions with
evidence, overall and per category (:func:`graphmem.bench.metrics.conversation_scores`).

>>> run = run_conversation(mem, load_conversation("../shared/bench/locomo_dev"))  # doctest: +SKIP
>>> run.to_json()["methods"]["graphmem"]["recall@10"]  # doctest: +SKIP
0.52
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphmem.bench.baselines import BM25Index, dense_search
from graphmem.bench.common import (
    METHODS,
    TEMPORARY_STORE,
    bench_namespace,
    conversation_namespace,
    peak_rss_mb,
    redact_url,
    sqlite_url,
)
from graphmem.bench.conversation import (
    ConversationDataset,
    ConversationQuestion,
    Turn,
    load_conversation,
    stratified,
)
from graphmem.bench.conversation_report import print_conversation, render_conversation_table
from graphmem.bench.conversation_result import ConversationRun
from graphmem.bench.jsonl import MAX_PASSAGE_BYTES, QUESTIONS, TURNS
from graphmem.bench.longmemeval import (
    TURN_KS,
    finish_sessions,
    has_session_gold,
    is_abstention,
    question_times,
    session_golds,
)
from graphmem.bench.metrics import (
    Judged,
    conversation_scores,
    normalize_k_values,
)
from graphmem.errors import ConfigError, InputError
from graphmem.extract.base import Extractor
from graphmem.ingest.episodes import make_episode, parse_time
from graphmem.models import EpisodeIn, EpisodeReport
from graphmem.store.base import Store

if TYPE_CHECKING:
    from graphmem.embed.base import Embedder
    from graphmem.memory import Memory

log = logging.getLogger("graphmem.bench")

__all__ = [
    "CONVERSATION_KS",
    "ConversationRun",
    "check_turn_times",
    "conversation_namespace",
    "print_conversation",
    "render_conversation_table",
    "run_conversation",
    "run_conversation_bench",
    "score",
    "turn_episode",
]

CONVERSATION_KS = (5, 10, 25)
_Ranks = tuple[str, ...]


def turn_episode(turn: Turn, position: int) -> EpisodeIn:
    """The episode a turn becomes (its dia_id and order kept in metadata)."""
    metadata: dict[str, Any] = {"dia_id": turn.dia_id, "seq": position}
    if turn.blip_caption and turn.blip_caption.strip():
        metadata["caption"] = turn.blip_caption.strip()
    return EpisodeIn(
        text=turn.text,
        time=turn.session_time,
        speaker=turn.speaker,
        session=turn.session,
        source=turn.conversation_id,
        metadata=metadata,
    )


def check_turn_times(ds: ConversationDataset) -> None:
    """Every ``session_time`` must read as a date (InputError naming the line otherwise)."""
    where = str(ds.path / TURNS)
    seen: dict[str, bool] = {}
    for t in ds.turns:
        if t.session_time in seen:
            continue
        try:
            parse_time(t.session_time, where=f"turn {t.dia_id!r}", field_name="session_time")
        except InputError as exc:
            raise InputError(exc.reason, path=where, line=t.line, field="session_time") from exc
        seen[t.session_time] = True


def run_conversation(
    mem: Memory,
    ds: ConversationDataset,
    ks: Sequence[int] = CONVERSATION_KS,
    *,
    limit: int | None = None,
    progress: bool = True,
    timing: bool = False,
) -> ConversationRun:
    """Ingest the conversations ``ds``'s asked questions need into ``mem`` (one namespace per
    conversation under ``mem.namespace``) and score graphmem, dense and BM25 on every question
    with evidence (and every ``abstention`` one).

    ``limit``: N questions taken round-robin over categories (:func:`stratified`); only their
    conversations are ingested. A question with a ``question_time`` sees its history as of then
    (:func:`graphmem.bench.longmemeval.question_times`), in graphmem and in the baselines.
    ``timing``: also time embedding each conversation's turns alone, a second ask of each
    question, and dense search per question with its embedding.
    """
    from tqdm import tqdm

    check_turn_times(ds)
    ks = sorted(set(ks))
    max_k = ks[-1]
    base = mem.namespace
    visible = question_times(ds)
    asked = stratified([q for q in ds.questions if q.evidence_ids or is_abstention(q)], limit)
    needed = {q.conversation_id for q in asked}
    convs = {c: turns for c, turns in ds.conversations().items() if c in needed}
    namespaces = {c: conversation_namespace(base, c) for c in convs}

    # episode id -> the dia_ids it stands for, per conversation
    dia_of: dict[str, dict[str, _Ranks]] = {}
    texts: dict[str, list[str]] = {}
    episode_ids: dict[str, list[str]] = {}
    episode_time: dict[str, dict[str, datetime]] = {}
    items: dict[str, list[EpisodeIn]] = {}
    for conv, turns in convs.items():
        ns = namespaces[conv]
        mapping: dict[str, list[str]] = {}
        conv_items = [turn_episode(t, i) for i, t in enumerate(turns)]
        order: list[str] = []
        for i, item in enumerate(conv_items):
            ep = make_episode(ns, item, i, mem.episode_ingest)
            if ep.id not in mapping:
                order.append(ep.id)
                texts.setdefault(conv, []).append(ep.text)
                episode_time.setdefault(conv, {})[ep.id] = ep.time
            mapping.setdefault(ep.id, []).append(str(item.metadata["dia_id"]))
        dia_of[conv] = {k: tuple(v) for k, v in mapping.items()}
        episode_ids[conv] = order
        items[conv] = conv_items

    report = EpisodeReport()
    ingest_by_conv: dict[str, float] = {}
    embed_by_conv: dict[str, float] = {}
    for conv in convs:
        t0 = time.perf_counter()
        part = mem.add_episodes(items[conv], namespace=namespaces[conv], progress=progress)
        ingest_by_conv[conv] = time.perf_counter() - t0
        for name, value in part.model_dump().items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                setattr(report, name, getattr(report, name) + value)
        # the same texts, embedded alone: what ingest costs beyond its vectors (only for a
        # conversation this run ingested: a kept store's cost nothing to compare)
        if timing and part.episodes_added:
            t0 = time.perf_counter()
            mem.embedder.embed(texts[conv])
            embed_by_conv[conv] = time.perf_counter() - t0
    ingest_s = sum(ingest_by_conv.values())

    def hidden(q: ConversationQuestion) -> set[str]:
        """Episodes after the question's visible time (none without a question time)."""
        until = visible.get(q.id)
        if until is None:
            return set()
        return {e for e, t in episode_time[q.conversation_id].items() if t > until}

    def ranks(conv: str, ids: Sequence[str], drop: Collection[str] = ()) -> list[_Ranks]:
        return [dia_of[conv].get(i, ()) for i in ids if i not in drop][:max_k]

    rankings: dict[str, list[list[_Ranks]]] = {m: [] for m in METHODS}
    method_ms: dict[str, float] = {}
    query_ms: list[float] = []
    repeat_ms: list[float] = []
    asked_confidence: dict[str, float] = {}

    def ask(q: ConversationQuestion) -> list[str]:
        res = mem.search(
            q.question,
            k=max_k,
            namespace=namespaces[q.conversation_id],
            include=["episodes"],
            as_of=visible.get(q.id),
        )
        asked_confidence[q.id] = res.confidence
        return [h.episode.id for h in res.episodes]

    # Untimed: what an ingest leaves built, and a server builds on open, for histories this run
    # did not ingest (a store kept from an earlier run); then the model load.
    for ns in dict.fromkeys(namespaces[q.conversation_id] for q in asked):
        mem.warm(ns)
    if asked:
        ask(asked[0])
    for q in tqdm(asked, desc="questions", unit="q", disable=not progress):
        t = time.perf_counter()
        found = ask(q)
        query_ms.append((time.perf_counter() - t) * 1e3)
        if timing:
            t = time.perf_counter()
            ask(q)
            repeat_ms.append((time.perf_counter() - t) * 1e3)
        rankings["graphmem"].append(ranks(q.conversation_id, found))
    method_ms["graphmem"] = sum(query_ms) / len(query_ms) if query_ms else 0.0

    by_conv: dict[str, list[int]] = {}
    for i, q in enumerate(asked):
        by_conv.setdefault(q.conversation_id, []).append(i)
    dense_rank: list[list[_Ranks]] = [[] for _ in asked]
    bm25_rank: list[list[_Ranks]] = [[] for _ in asked]
    dense_s = bm25_s = 0.0
    stemmer = "none"
    for conv, idx in by_conv.items():
        ns = namespaces[conv]
        qtexts = [asked[i].question for i in idx]
        drops = [hidden(asked[i]) for i in idx]
        # later episodes are filtered out afterwards, so ask for as many more
        fetch = max_k + max(len(d) for d in drops)
        t = time.perf_counter()
        hits = dense_search(mem.store, mem.embedder, ns, qtexts, fetch, kind="episode")
        dense_s += time.perf_counter() - t
        for i, dh, drop in zip(idx, hits, drops, strict=True):
            dense_rank[i] = ranks(conv, [e for e, _ in dh], drop)
        bm25 = BM25Index(texts[conv])
        stemmer = bm25.stemmer_name
        t = time.perf_counter()
        found_bm25 = bm25.search(qtexts, fetch)
        bm25_s += time.perf_counter() - t
        for i, bh, drop in zip(idx, found_bm25, drops, strict=True):
            bm25_rank[i] = ranks(conv, [episode_ids[conv][j] for j, _ in bh], drop)
    rankings["dense"], rankings["bm25"] = dense_rank, bm25_rank
    n = max(len(asked), 1)
    method_ms["dense"], method_ms["bm25"] = dense_s * 1e3 / n, bm25_s * 1e3 / n
    dense_ms: list[float] = []
    if timing:  # as a user pays it: one question embedded, then the vector search
        for q in asked:
            t = time.perf_counter()
            dense_search(
                mem.store,
                mem.embedder,
                namespaces[q.conversation_id],
                [q.question],
                max_k,
                kind="episode",
            )
            dense_ms.append((time.perf_counter() - t) * 1e3)

    methods = {m: score(asked, rankings[m], ks) for m in METHODS}
    confidence = [asked_confidence[q.id] for q in asked]
    return ConversationRun(
        dataset=ds.name,
        store="",
        extractor="",
        namespaces=sorted(namespaces.values()),
        k_values=ks,
        methods=methods,
        ingest_s=ingest_s,
        query_ms=query_ms,
        peak_rss_mb=0.0,
        questions=len(asked),
        turns=sum(len(t) for t in convs.values()),
        episodes=sum(len(v) for v in episode_ids.values()),
        skipped=list(ds.skipped),
        skipped_questions=list(ds.skipped_questions),
        ingest=report,
        method_ms=method_ms,
        bm25_stemmer=stemmer,
        question_ids=[q.id for q in asked],
        rankings=rankings,
        asked=asked,
        ingest_by_conv=ingest_by_conv,
        embed_by_conv=embed_by_conv,
        turns_by_conv={c: len(t) for c, t in convs.items()},
        query_ms_repeat=repeat_ms,
        dense_ms=dense_ms,
        confidence=confidence,
    )


def score(
    questions: Sequence[ConversationQuestion], rankings: Sequence[list[_Ranks]], ks: Sequence[int]
) -> dict[str, Any]:
    """Evidence recall overall and by category name (issue 5's JSON shape)."""
    judged = [
        Judged(q.category_name, r, q.evidence_ids) for q, r in zip(questions, rankings, strict=True)
    ]
    return conversation_scores(judged, ks)


def run_conversation_bench(
    path: str | Path,
    *,
    store: str | Store | None = None,
    extractor: str | Extractor = "auto",
    k_values: Sequence[int] | None = None,
    limit: int | None = None,
    progress: bool = True,
    embedder: str | Embedder = "local",
    max_passage_bytes: int = MAX_PASSAGE_BYTES,
    strict: bool = False,
) -> ConversationRun:
    """The whole conversation run on a folder (what ``graphmem bench DIR`` does for LoCoMo and
    LongMemEval; a folder with session-level gold is scored as :mod:`graphmem.bench.longmemeval`
    says, with turn ks (5, 10, 50) by default).

    ``extractor``: ``"auto"``/``"nlp"`` (spaCy, offline), ``"none"``, another name Memory accepts,
    or an Extractor (``"precomputed"`` needs a multihop folder's triples.jsonl: refused here).
    ``strict``: refuse questions whose evidence turns are missing instead of skipping them.
    """
    from graphmem.memory import MAX_K, MAX_QUESTION_CHARS, Memory

    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit must be a positive number of questions, got {limit!r}")
    ds = load_conversation(path, max_passage_bytes=max_passage_bytes, strict=strict)
    sessions = has_session_gold(ds)
    try:
        default = TURN_KS if sessions else CONVERSATION_KS
        ks = normalize_k_values(default if k_values is None else k_values)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if ks[-1] > MAX_K:
        raise ConfigError(f"k values must be at most {MAX_K}, got {ks[-1]}")
    for q in ds.questions:
        if len(q.question) > MAX_QUESTION_CHARS:
            raise InputError(
                f"question {q.id!r} is {len(q.question):,} characters; the limit is "
                f"{MAX_QUESTION_CHARS:,}",
                path=str(ds.path / QUESTIONS),
                line=q.line,
                field="question",
            )
    question_times(ds)  # an unreadable question_time fails before anything is written
    if sessions:
        session_golds(ds)
    check_turn_times(ds)
    if isinstance(extractor, str):
        name = extractor.strip().lower()
        name = "nlp" if name == "auto" else name
        if name == "precomputed":
            raise ConfigError(
                f"{ds.path}: extractor 'precomputed' reads a triples.jsonl of passages; a "
                "conversation folder has none: use 'nlp' (offline) or 'llm'"
            )
        ex_spec: str | Extractor = name
    else:
        ex_spec, name = extractor, extractor.name
    namespace = bench_namespace(ds.name, name)
    with tempfile.TemporaryDirectory(prefix="graphmem-bench-") as tmp:
        if store is None:
            store_arg: str | Store = sqlite_url(Path(tmp) / "bench.db")
            label = TEMPORARY_STORE
        else:
            store_arg = store
            label = redact_url(store if isinstance(store, str) else store.url)
        mem = Memory(store_arg, embedder=embedder, extractor=ex_spec, namespace=namespace)
        try:
            run = run_conversation(mem, ds, ks, limit=limit, progress=progress, timing=sessions)
            if sessions:
                finish_sessions(mem.embedder, ds, run)
        finally:
            if isinstance(store_arg, str):
                mem.close()
    run.store, run.extractor = label, name
    run.peak_rss_mb = peak_rss_mb()
    return run
