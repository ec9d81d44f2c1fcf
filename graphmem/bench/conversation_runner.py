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
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    skipped_json,
    skipped_line,
    sqlite_url,
    timings_json,
)
from graphmem.bench.conversation import (
    ConversationDataset,
    ConversationQuestion,
    Turn,
    load_conversation,
)
from graphmem.bench.jsonl import MAX_PASSAGE_BYTES, QUESTIONS, TURNS, Skipped
from graphmem.bench.metrics import Judged, conversation_scores, normalize_k_values, percentile
from graphmem.errors import ConfigError, InputError
from graphmem.extract.base import Extractor
from graphmem.ingest.episodes import make_episode, parse_time
from graphmem.models import EpisodeIn, EpisodeReport
from graphmem.store.base import Store

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

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


@dataclass
class ConversationRun:
    """Everything one conversation run measured. :meth:`to_json` is the exact published JSON."""

    dataset: str
    store: str
    extractor: str
    namespaces: list[str]
    k_values: list[int]
    methods: dict[str, dict[str, Any]]
    ingest_s: float
    query_ms: list[float]
    peak_rss_mb: float
    questions: int
    turns: int
    episodes: int
    skipped: list[Skipped] = field(default_factory=list)
    #: questions left out because an evidence turn is not in the data (see ``strict``)
    skipped_questions: list[Skipped] = field(default_factory=list)
    ingest: EpisodeReport | None = None
    method_ms: dict[str, float] = field(default_factory=dict)
    bm25_stemmer: str = "none"
    question_ids: list[str] = field(default_factory=list)
    rankings: dict[str, list[list[_Ranks]]] = field(default_factory=dict)
    kind: str = "conversation"

    def to_json(self) -> dict[str, Any]:
        """``{"dataset", "kind", "store", "extractor", "methods", "timings", "peak_rss_mb",
        "skipped_questions"}``."""

        def rounded(scores: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, value in scores.items():
                if isinstance(value, dict):
                    out[key] = {name: rounded(row) for name, row in value.items()}
                elif key == "n":
                    out[key] = int(value)
                else:
                    out[key] = round(float(value), 6)
            return out

        return {
            "dataset": self.dataset,
            "kind": self.kind,
            "store": self.store,
            "extractor": self.extractor,
            "methods": {m: rounded(self.methods[m]) for m in METHODS},
            "timings": timings_json(self.ingest_s, self.query_ms),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "skipped_questions": skipped_json(self.skipped_questions),
        }


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
) -> ConversationRun:
    """Ingest ``ds`` into ``mem`` (one namespace per conversation under ``mem.namespace``) and
    score graphmem, dense and BM25 on every question with evidence."""
    from tqdm import tqdm

    check_turn_times(ds)
    ks = sorted(set(ks))
    max_k = ks[-1]
    base = mem.namespace
    convs = ds.conversations()
    namespaces = {c: conversation_namespace(base, c) for c in convs}
    asked = [q for q in ds.questions if q.evidence_ids]
    if limit:
        asked = asked[:limit]

    # episode id -> the dia_ids it stands for, per conversation
    dia_of: dict[str, dict[str, _Ranks]] = {}
    texts: dict[str, list[str]] = {}
    episode_ids: dict[str, list[str]] = {}
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
            mapping.setdefault(ep.id, []).append(str(item.metadata["dia_id"]))
        dia_of[conv] = {k: tuple(v) for k, v in mapping.items()}
        episode_ids[conv] = order
        items[conv] = conv_items

    report = EpisodeReport()
    t0 = time.perf_counter()
    for conv in convs:
        part = mem.add_episodes(items[conv], namespace=namespaces[conv], progress=progress)
        for name, value in part.model_dump().items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                setattr(report, name, getattr(report, name) + value)
    ingest_s = time.perf_counter() - t0

    def ranks(conv: str, ids: Sequence[str]) -> list[_Ranks]:
        return [dia_of[conv].get(i, ()) for i in ids[:max_k]]

    rankings: dict[str, list[list[_Ranks]]] = {m: [] for m in METHODS}
    method_ms: dict[str, float] = {}
    query_ms: list[float] = []
    if asked:
        first = asked[0]  # untimed warm-up: model load, graph projection
        mem.search(first.question, k=max_k, namespace=namespaces[first.conversation_id],
                   include=["episodes"])  # fmt: skip
    for q in tqdm(asked, desc="questions", unit="q", disable=not progress):
        t = time.perf_counter()
        res = mem.search(q.question, k=max_k, namespace=namespaces[q.conversation_id],
                         include=["episodes"])  # fmt: skip
        query_ms.append((time.perf_counter() - t) * 1e3)
        rankings["graphmem"].append(ranks(q.conversation_id, [h.episode.id for h in res.episodes]))
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
        t = time.perf_counter()
        hits = dense_search(mem.store, mem.embedder, ns, qtexts, max_k, kind="episode")
        dense_s += time.perf_counter() - t
        for i, dh in zip(idx, hits, strict=True):
            dense_rank[i] = ranks(conv, [e for e, _ in dh])
        bm25 = BM25Index(texts[conv])
        stemmer = bm25.stemmer_name
        t = time.perf_counter()
        found = bm25.search(qtexts, max_k)
        bm25_s += time.perf_counter() - t
        for i, bh in zip(idx, found, strict=True):
            bm25_rank[i] = ranks(conv, [episode_ids[conv][j] for j, _ in bh])
    rankings["dense"], rankings["bm25"] = dense_rank, bm25_rank
    n = max(len(asked), 1)
    method_ms["dense"], method_ms["bm25"] = dense_s * 1e3 / n, bm25_s * 1e3 / n

    methods = {m: score(asked, rankings[m], ks) for m in METHODS}
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
        turns=len(ds.turns),
        episodes=sum(len(v) for v in episode_ids.values()),
        skipped=list(ds.skipped),
        skipped_questions=list(ds.skipped_questions),
        ingest=report,
        method_ms=method_ms,
        bm25_stemmer=stemmer,
        question_ids=[q.id for q in asked],
        rankings=rankings,
    )


def score(
    questions: Sequence[ConversationQuestion], rankings: Sequence[list[_Ranks]], ks: Sequence[int]
) -> dict[str, Any]:
    """Evidence recall overall and by category name (issue 5's JSON shape)."""
    judged = [
        Judged(q.category_name, r, q.evidence_ids) for q, r in zip(questions, rankings, strict=True)
    ]
    return conversation_scores(judged, ks)


def render_conversation_table(run: ConversationRun) -> Table:
    """Methods as rows, evidence recall in percent, overall and per category (R@10)."""
    from rich.table import Table

    ks = run.k_values
    cats = sorted(run.methods["graphmem"]["by_category"])
    title = f"{run.dataset}: {run.questions} questions, {run.episodes} episodes"
    table = Table(title=title, title_justify="left")
    table.add_column("method", no_wrap=True)
    for k in ks:
        table.add_column(f"R@{k}\n%", justify="right")
    mid = ks[len(ks) // 2]
    for c in cats:
        n = int(run.methods["graphmem"]["by_category"][c]["n"])
        table.add_column(f"{c[:6]}\nn={n}\nR@{mid}", justify="right")
    table.add_column("ms/q", justify="right")
    for m in METHODS:
        s = run.methods[m]
        row = [f"{100 * s[f'recall@{k}']:.1f}" for k in ks]
        row += [f"{100 * s['by_category'][c][f'recall@{mid}']:.1f}" for c in cats]
        ms = run.method_ms.get(m)
        table.add_row(m, *row, f"{ms:.1f}" if ms is not None else "-")
    p50, p95 = percentile(run.query_ms, 50), percentile(run.query_ms, 95)
    lines = [
        f"ingest {run.ingest_s:.1f} s · graphmem query p50 {p50:.1f} ms, p95 {p95:.1f} ms · "
        f"peak RSS {run.peak_rss_mb:.0f} MB",
        f"extractor {run.extractor} · store {run.store} · "
        f"{len(run.namespaces)} namespaces ({', '.join(run.namespaces)})",
    ]
    skipped = skipped_line(run.skipped_questions)
    if skipped:
        lines.append(skipped)
    table.caption = "\n".join(lines)
    table.caption_justify = "left"
    return table


def print_conversation(run: ConversationRun, console: Console | None = None) -> None:
    from rich.console import Console

    (console or Console()).print(render_conversation_table(run))


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
    """The whole conversation run on a folder (what ``graphmem bench DIR`` does for LoCoMo).

    ``extractor``: ``"auto"``/``"nlp"`` (spaCy, offline), ``"none"``, another name Memory accepts,
    or an Extractor (``"precomputed"`` needs a multihop folder's triples.jsonl: refused here).
    ``strict``: refuse questions whose evidence turns are missing instead of skipping them.
    """
    from graphmem.memory import MAX_K, MAX_QUESTION_CHARS, Memory

    try:
        ks = normalize_k_values(CONVERSATION_KS if k_values is None else k_values)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if ks[-1] > MAX_K:
        raise ConfigError(f"k values must be at most {MAX_K}, got {ks[-1]}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit must be a positive number of questions, got {limit!r}")
    ds = load_conversation(path, max_passage_bytes=max_passage_bytes, strict=strict)
    for q in ds.questions:
        if len(q.question) > MAX_QUESTION_CHARS:
            raise InputError(
                f"question {q.id!r} is {len(q.question):,} characters; the limit is "
                f"{MAX_QUESTION_CHARS:,}",
                path=str(ds.path / QUESTIONS), line=q.line, field="question",
            )  # fmt: skip
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
            run = run_conversation(mem, ds, ks, limit=limit, progress=progress)
        finally:
            if isinstance(store_arg, str):
                mem.close()
    run.store, run.extractor = label, name
    run.peak_rss_mb = peak_rss_mb()
    return run
