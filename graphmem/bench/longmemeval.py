"""LongMemEval in the conversation layout: session-level gold, question times, abstention.

A conversation folder is scored the LongMemEval way when its turns carry ``session_id`` and its
questions ``answer_session_ids`` (``shared/bench/README.md``). Then, on top of the conversation
run (:mod:`graphmem.bench.conversation_runner`):

- every question is asked as of its ``question_time`` (:func:`question_times`);
- ranked turns are mapped to sessions in rank order
  (:func:`graphmem.bench.metrics.sessions_in_rank_order`) and scored by ``recall_any@k`` and
  ``recall_all@k`` (k = 5, 10); turns by evidence recall@k (5, 10, 50) and NDCG@10;
- a fourth method, ``dense_sessions``, ranks whole sessions (one vector per session: its turns'
  text, truncated as the embedding model truncates), the raw baseline peers publish;
- questions flagged ``abstention`` (no answer in the history) are reported apart.

>>> end_of_day(datetime(2023, 5, 20, 2, 21)).isoformat()
'2023-05-20T23:59:59.999999'
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from graphmem.bench.common import METHODS
from graphmem.bench.conversation import ConversationDataset, ConversationQuestion, Turn
from graphmem.bench.jsonl import QUESTIONS, Fields
from graphmem.bench.metrics import (
    all_found_at_k,
    mean,
    ndcg_at_k,
    percentile,
    recall_any_at_k,
    recall_at_k,
    sessions_in_rank_order,
)
from graphmem.errors import InputError
from graphmem.ingest.episodes import parse_time

if TYPE_CHECKING:
    from graphmem.bench.conversation_result import ConversationRun
    from graphmem.embed.base import Embedder

log = logging.getLogger("graphmem.bench")

__all__ = [
    "DENSE_SESSIONS",
    "NDCG_K",
    "SESSION_KS",
    "TURN_KS",
    "SessionGold",
    "dense_sessions",
    "end_of_day",
    "finish_sessions",
    "has_session_gold",
    "is_abstention",
    "question_times",
    "score_sessions",
    "session_golds",
    "session_keys",
]

SESSION_KS = (5, 10)
TURN_KS = (5, 10, 50)
NDCG_K = 10
DENSE_SESSIONS = "dense_sessions"
_Ranks = tuple[str, ...]


def has_session_gold(ds: ConversationDataset) -> bool:
    """Does the folder give sessions ids and session-level gold (LongMemEval)?"""
    return any(t.session_id for t in ds.turns) and any(
        "answer_session_ids" in q.extra for q in ds.questions
    )


def is_abstention(q: ConversationQuestion) -> bool:
    """A question whose answer is not in the history (its right result is a low-confidence one)."""
    return q.extra.get("abstention") is True


def end_of_day(when: datetime) -> datetime:
    """The last instant of ``when``'s day.

    Questions see their history up to the end of the day they are asked: in LongMemEval the
    times within a day are not ordered with the question (4 of the 10 dev temporal questions have
    their evidence sessions hours *after* ``question_time``, the same day), while no session of
    a later day precedes a question.
    """
    return when.replace(hour=23, minute=59, second=59, microsecond=999999)


def question_times(ds: ConversationDataset) -> dict[str, datetime]:
    """Question id -> the time its history is visible until (:func:`end_of_day` of its
    ``question_time``), for the questions that give one; InputError naming the line otherwise."""
    where = str(ds.path / QUESTIONS)
    out: dict[str, datetime] = {}
    for q in ds.questions:
        raw = q.extra.get("question_time")
        if raw is None:
            continue
        f = Fields(q.extra, where, q.line)
        text = f.string("question_time")
        try:
            out[q.id] = end_of_day(parse_time(text, where=f"question {q.id!r}"))
        except InputError as exc:
            raise InputError(exc.reason, path=where, line=q.line, field="question_time") from exc
    return out


def session_keys(turns: Sequence[Turn]) -> dict[str, str]:
    """Turn ``dia_id`` -> its session (``session_id``, else the ``session`` field)."""
    return {t.dia_id: t.session_id or t.session for t in turns}


@dataclass(frozen=True, slots=True)
class SessionGold:
    """One question's session-level gold: the sessions holding its answer (may be empty)."""

    sessions: tuple[str, ...]
    abstention: bool


def session_golds(ds: ConversationDataset) -> dict[str, SessionGold]:
    """Question id -> its ``answer_session_ids`` (the ids its conversation holds) and abstention.

    A gold session the conversation does not hold is dropped with one warning that counts them
    (real data has flaws: warn, count, go on).
    """
    where = str(ds.path / QUESTIONS)
    known: dict[str, set[str]] = {}
    for t in ds.turns:
        known.setdefault(t.conversation_id, set()).add(t.session_id or t.session)
    out: dict[str, SessionGold] = {}
    dropped: list[str] = []
    for q in ds.questions:
        f = Fields(q.extra, where, q.line)
        ids = f.string_list("answer_session_ids", required=False)
        flag = q.extra.get("abstention", False)
        if not isinstance(flag, bool):
            raise f.error("expected true or false", "abstention")
        kept = tuple(dict.fromkeys(s for s in ids if s in known.get(q.conversation_id, set())))
        dropped += [f"{q.id}/{s}" for s in ids if s not in kept]
        out[q.id] = SessionGold(kept, flag)
    if dropped:
        log.warning(
            "%s: %d answer session ids name no session of their conversation (dropped): %s",
            where,
            len(dropped),
            ", ".join(dropped[:3]) + (" …" if len(dropped) > 3 else ""),
        )
    return out


# ------------------------------------------------------------------------------ scoring


def question_scores(
    turns: Sequence[_Ranks] | None,
    evidence: Sequence[str],
    sessions: Sequence[str],
    gold: Sequence[str],
    turn_ks: Sequence[int],
) -> dict[str, float]:
    """One question's metrics: session ``recall_any@k``/``recall_all@k`` (when it has gold
    sessions), then turn ``recall@k`` and ``ndcg@10`` (when ``turns`` are given and it has
    evidence)."""
    out: dict[str, float] = {}
    if gold:
        for k in SESSION_KS:
            out[f"recall_any@{k}"] = recall_any_at_k(sessions, gold, k)
        for k in SESSION_KS:
            out[f"recall_all@{k}"] = float(all_found_at_k(sessions, gold, k))
    if turns is not None and evidence:
        for k in turn_ks:
            out[f"recall@{k}"] = recall_at_k(turns, evidence, k)
        out[f"ndcg@{NDCG_K}"] = ndcg_at_k(turns, evidence, NDCG_K)
    return out


def aggregate(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Each metric's mean over the questions that have it, and ``n`` (questions)."""
    keys = list(dict.fromkeys(key for row in rows for key in row))
    out = {key: mean(row[key] for row in rows if key in row) for key in keys}
    out["n"] = len(rows)
    return out


def score_sessions(
    categories: Sequence[str], rows: Sequence[Mapping[str, float]]
) -> dict[str, Any]:
    """Overall metrics and ``by_category`` (sorted by name) from per-question rows."""
    groups: dict[str, list[Mapping[str, float]]] = {}
    for cat, row in zip(categories, rows, strict=True):
        groups.setdefault(cat, []).append(row)
    return {**aggregate(rows), "by_category": {c: aggregate(groups[c]) for c in sorted(groups)}}


# ------------------------------------------------------------------------------ baseline


def session_texts(turns: Sequence[Turn]) -> tuple[list[str], list[str], list[datetime]]:
    """Each session of a conversation once, in order: its key, its text (``speaker: text``
    lines) and its time."""
    keys: list[str] = []
    lines: dict[str, list[str]] = {}
    times: dict[str, datetime] = {}
    for t in turns:
        key = t.session_id or t.session
        if key not in lines:
            keys.append(key)
            lines[key] = []
            times[key] = parse_time(t.session_time, where=f"turn {t.dia_id!r}")
        lines[key].append(
            f"{t.speaker}: {t.text}" if t.text.strip() else f"{t.speaker}: {t.blip_caption or ''}"
        )
    return keys, ["\n".join(lines[k]) for k in keys], [times[k] for k in keys]


@dataclass
class SessionBaseline:
    """What :func:`dense_sessions` found: each question's ranked sessions, and its costs."""

    ranked: dict[str, list[str]]
    query_ms: list[float]
    embed_s: float


def dense_sessions(
    embedder: Embedder,
    conversations: Mapping[str, Sequence[Turn]],
    questions: Sequence[ConversationQuestion],
    visible: Mapping[str, datetime],
    top: int,
) -> SessionBaseline:
    """Dense over whole sessions: one vector per session (the embedder truncates long texts as
    its model does), sessions ranked by cosine with the question; sessions after the question's
    visible time left out. ``query_ms``: each question embedded and ranked alone."""
    ranked: dict[str, list[str]] = {}
    query_ms: list[float] = []
    embed_s = 0.0
    for conv, turns in conversations.items():
        asked = [q for q in questions if q.conversation_id == conv]
        if not asked:
            continue
        keys, texts, times = session_texts(turns)
        t0 = time.perf_counter()
        vectors = embedder.embed(texts)
        embed_s += time.perf_counter() - t0
        for q in asked:
            t0 = time.perf_counter()
            qv = embedder.embed([q.question], kind="query")[0]
            sims = vectors @ qv
            order = np.lexsort((np.arange(len(keys)), -sims))
            query_ms.append((time.perf_counter() - t0) * 1e3)
            until = visible.get(q.id)
            ranked[q.id] = [keys[i] for i in order if until is None or times[i] <= until][:top]
    return SessionBaseline(ranked, query_ms, embed_s)


def ms_summary(values: Sequence[float]) -> dict[str, float]:
    """``{"p50", "p95"}`` in ms, rounded."""
    return {"p50": round(percentile(values, 50), 3), "p95": round(percentile(values, 95), 3)}


def ingest_summary(
    ingest: Mapping[str, float], embed: Mapping[str, float], turns: Mapping[str, int]
) -> dict[str, Any]:
    """Ingest against pure embedding of the same turns, per conversation and in total (the
    ratios over the conversations with an embedding time: those the run ingested)."""
    per: list[dict[str, Any]] = [
        {
            "conversation_id": c,
            "turns": turns.get(c, 0),
            "ingest_s": round(ingest[c], 3),
            "embed_turns_s": round(embed.get(c, 0.0), 3),
            "ratio": round(ingest[c] / embed[c], 3) if embed.get(c) else None,
        }
        for c in ingest
    ]
    timed = [c for c in ingest if embed.get(c)]
    total_e = sum(embed[c] for c in timed)
    ratios = [float(r["ratio"]) for r in per if r["ratio"] is not None]
    return {
        "ingest_s": round(sum(ingest.values()), 3),
        "embed_turns_s": round(total_e, 3),
        "ratio": round(sum(ingest[c] for c in timed) / total_e, 3) if total_e else None,
        "ratio_p50": round(percentile(ratios, 50), 3) if ratios else None,
        "per_conversation": per,
    }


# ------------------------------------------------------------------------------ the run


def finish_sessions(embedder: Embedder, ds: ConversationDataset, run: ConversationRun) -> None:
    """Score a conversation run of a LongMemEval-layout folder the LongMemEval way, in place.

    ``run.methods`` becomes, per method, session ``recall_any@k``/``recall_all@k``, turn
    ``recall@k`` and ``ndcg@10`` over the answerable questions, with ``by_category``; the
    ``dense_sessions`` baseline joins them (``embedder`` embeds its sessions). Abstention
    questions are scored apart on the sessions they are about. ``run.records`` holds one
    record per question for ``--per-question``.
    """
    golds = session_golds(ds)
    visible = question_times(ds)
    convs = ds.conversations()
    session_of = {c: session_keys(convs[c]) for c in run.turns_by_conv}
    top = max(SESSION_KS)
    baseline = dense_sessions(
        embedder, {c: convs[c] for c in run.turns_by_conv}, run.asked, visible, top
    )
    names = [*METHODS, DENSE_SESSIONS]
    rows: dict[str, list[dict[str, float]]] = {m: [] for m in names}
    records: list[dict[str, Any]] = []
    for i, q in enumerate(run.asked):
        gold = golds[q.id]
        until = visible.get(q.id)
        rec: dict[str, Any] = {
            "id": q.id,
            "conversation_id": q.conversation_id,
            "category": q.category_name,
            "abstention": gold.abstention,
            "visible_until": until.isoformat() if until else None,
            "gold": list(q.evidence_ids),
            "gold_sessions": list(gold.sessions),
            "graphmem_ms": round(run.query_ms[i], 3) if i < len(run.query_ms) else None,
            "confidence": run.confidence[i] if i < len(run.confidence) else None,
        }
        for m in METHODS:
            turns = run.rankings[m][i]
            sessions = sessions_in_rank_order(turns, session_of[q.conversation_id])
            row = question_scores(turns, q.evidence_ids, sessions, gold.sessions, run.k_values)
            rows[m].append(row)
            rec[m] = {"ranks": [list(r) for r in turns], "sessions": sessions[:top], **row}
        ranked = baseline.ranked.get(q.id, [])
        row = question_scores(None, (), ranked, gold.sessions, run.k_values)
        rows[DENSE_SESSIONS].append(row)
        rec[DENSE_SESSIONS] = {"sessions": ranked[:top], **row}
        records.append(rec)

    answerable = [i for i, q in enumerate(run.asked) if not golds[q.id].abstention]
    apart = [i for i, q in enumerate(run.asked) if golds[q.id].abstention]
    cats = [run.asked[i].category_name for i in answerable]
    run.methods = {m: score_sessions(cats, [rows[m][i] for i in answerable]) for m in names}
    run.method_ms[DENSE_SESSIONS] = mean(baseline.query_ms)
    run.records = records
    timings: dict[str, Any] = {
        "query_ms_repeat": ms_summary(run.query_ms_repeat),
        "dense_query_ms": ms_summary(run.dense_ms),
        "dense_sessions_query_ms": ms_summary(baseline.query_ms),
        "dense_sessions_embed_s": round(baseline.embed_s, 3),
        "ingest": ingest_summary(run.ingest_by_conv, run.embed_by_conv, run.turns_by_conv),
    }
    run.sessions = {
        "timings": timings,
        "questions": {"answerable": len(answerable), "abstention": len(apart)},
        "k_values": {"turns": list(run.k_values), "sessions": list(SESSION_KS)},
        "visible_until": "the end of each question's day (question_time)",
        "abstention": {
            "n": len(apart),
            "ids": [run.asked[i].id for i in apart],
            "related_sessions": {
                m: {k: round(v, 6) for k, v in aggregate([rows[m][i] for i in apart]).items()}
                for m in names
            },
        },
    }
