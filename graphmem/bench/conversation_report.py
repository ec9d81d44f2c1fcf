"""The tables of a conversation run: LoCoMo's evidence recall, or LongMemEval's session and turn
metrics per question type with its four methods (:mod:`graphmem.bench.longmemeval`).

>>> print_conversation(run)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphmem.bench.common import METHODS, skipped_line
from graphmem.bench.longmemeval import DENSE_SESSIONS, NDCG_K, SESSION_KS
from graphmem.bench.metrics import percentile

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from graphmem.bench.conversation_result import ConversationRun

__all__ = ["print_conversation", "render_conversation_table", "render_session_tables"]


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
    lines += confidence_lines(run)
    skipped = skipped_line(run.skipped_questions)
    if skipped:
        lines.append(skipped)
    table.caption = "\n".join(lines)
    table.caption_justify = "left"
    return table


def _metric_keys(run: ConversationRun) -> list[str]:
    keys = [f"recall_any@{k}" for k in SESSION_KS] + [f"recall_all@{k}" for k in SESSION_KS]
    return keys + [f"recall@{k}" for k in run.k_values] + [f"ndcg@{NDCG_K}"]


def _label(key: str) -> str:
    return (
        key.replace("recall_any@", "any@")
        .replace("recall_all@", "all@")
        .replace("recall@", "R@")
        .replace("ndcg@", "NDCG@")
    )


def _cells(scores: dict[str, Any], keys: list[str]) -> list[str]:
    return [f"{100 * scores[k]:.1f}" if k in scores else "-" for k in keys]


def render_session_tables(run: ConversationRun) -> list[Table]:
    """Two tables: every metric per method over the answerable questions (with search times),
    then the same per question type; the caption holds abstention, ingest and latency figures."""
    from rich.table import Table

    keys = _metric_keys(run)
    names = list(run.methods)
    info = run.sessions or {}
    counts = info.get("questions", {})
    title = (
        f"{run.dataset}: {run.questions} questions ({counts.get('answerable', 0)} answerable, "
        f"{counts.get('abstention', 0)} abstention), {run.episodes} episodes in "
        f"{len(run.namespaces)} conversations · session recall (any/all) and evidence-turn "
        "recall, %"
    )
    overall = Table(title=title, title_justify="left")
    overall.add_column("method", no_wrap=True)
    for key in keys:
        overall.add_column(_label(key), justify="right")
    for label in ("ms/q\nmean", "ms/q\np50", "ms/q\np95"):
        overall.add_column(label, justify="right")
    t = info.get("timings", {})
    # each question alone, embedding included (bm25 is timed only as a batch)
    alone = {
        "graphmem": {"p50": percentile(run.query_ms, 50), "p95": percentile(run.query_ms, 95)},
        "dense": t.get("dense_query_ms", {}),
        DENSE_SESSIONS: t.get("dense_sessions_query_ms", {}),
    }
    for m in names:
        ms = run.method_ms.get(m)
        p = alone.get(m, {})
        overall.add_row(
            m,
            *_cells(run.methods[m], keys),
            f"{ms:.1f}" if ms is not None else "-",
            *(f"{p[q]:.1f}" if q in p else "-" for q in ("p50", "p95")),
        )
    overall.caption = "\n".join(_caption(run))
    overall.caption_justify = "left"

    by_type = Table(title=f"{run.dataset}: per question type, %", title_justify="left")
    by_type.add_column("type", no_wrap=True)
    by_type.add_column("method", no_wrap=True)
    for key in keys:
        by_type.add_column(_label(key), justify="right")
    cats = sorted(run.methods["graphmem"]["by_category"])
    for c in cats:
        n = int(run.methods["graphmem"]["by_category"][c]["n"])
        for j, m in enumerate(names):
            row = run.methods[m]["by_category"].get(c, {})
            by_type.add_row(
                f"{c} (n={n})" if j == 0 else "",
                m,
                *_cells(row, keys),
                end_section=j == len(names) - 1,
            )
    return [overall, by_type]


def _caption(run: ConversationRun) -> list[str]:
    info = run.sessions or {}
    t = info.get("timings", {})
    p50, p95 = percentile(run.query_ms, 50), percentile(run.query_ms, 95)
    rep, dense = t.get("query_ms_repeat", {}), t.get("dense_query_ms", {})
    d50, d95 = dense.get("p50", 0.0), dense.get("p95", 0.0)
    lines = [
        f"search (embedding included), ms: graphmem p50 {p50:.1f}, p95 {p95:.1f} (first ask of "
        f"each question); asked again p50 {rep.get('p50', 0.0):.1f}, p95 {rep.get('p95', 0.0):.1f}"
        f"; dense p50 {d50:.1f}, p95 {d95:.1f}"
        + (f" (graphmem/dense {p50 / d50:.1f}x, {p95 / d95:.1f}x)" if d50 and d95 else "")
        + f"; dense_sessions p50 {t.get('dense_sessions_query_ms', {}).get('p50', 0.0):.1f}"
    ]
    ing = t.get("ingest", {})
    per = ing.get("per_conversation", [])
    if per:
        ratio = ing.get("ratio")
        lines.append(
            f"ingest {ing['ingest_s']:.1f} s for {len(per)} conversations "
            f"({ing['ingest_s'] / len(per):.1f} s each) against {ing['embed_turns_s']:.1f} s to "
            f"embed their turns alone: {ratio:.1f}x (per conversation p50 "
            f"{ing.get('ratio_p50') or 0:.1f}x)"
            if ratio
            else f"ingest {ing['ingest_s']:.1f} s"
        )
    abst = info.get("abstention", {})
    if abst.get("n"):
        rel = abst["related_sessions"]
        shown = ", ".join(
            f"{m} {100 * rel[m].get('recall_any@5', 0.0):.0f}"
            for m in [*METHODS, DENSE_SESSIONS]
            if m in rel
        )
        lines.append(
            f"{abst['n']} abstention questions, apart (no answer in the history); the sessions "
            f"they are about in the top 5 (any@5 %): {shown}"
        )
    lines += confidence_lines(run)
    lines.append(
        f"history visible until the end of each question's day · peak RSS "
        f"{run.peak_rss_mb:.0f} MB · extractor {run.extractor} · store {run.store}"
    )
    skipped = skipped_line(run.skipped_questions)
    if skipped:
        lines.append(skipped)
    return lines


def confidence_lines(run: ConversationRun) -> list[str]:
    """The AUROC of graphmem's confidence against each unanswerable set the run asked."""
    found = run.confidence_auroc()
    parts = [
        f"{name} (n={found[name]['n']}) {found[name]['auroc']:.3f}"
        for name in ("abstention", "adversarial")
        if found.get(name, {}).get("auroc") is not None
    ]
    if not parts:
        return []
    return [f"confidence AUROC, answerable (n={found['answerable']}) against: " + ", ".join(parts)]


def print_conversation(run: ConversationRun, console: Console | None = None) -> None:
    """Print the run's table (LongMemEval-layout runs: its two tables)."""
    from rich.console import Console

    out = console or Console()
    if run.sessions is None:
        out.print(render_conversation_table(run))
        return
    for table in render_session_tables(run):
        out.print(table)
