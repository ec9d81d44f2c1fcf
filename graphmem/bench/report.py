"""The benchmark's table: methods as rows, recall in percent, timings underneath.

>>> from rich.console import Console
>>> print_run(run, Console())  # doctest: +SKIP
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from graphmem.bench.common import METHODS, BenchRun, skipped_line
from graphmem.bench.metrics import percentile


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def render_table(run: BenchRun) -> Table:
    """A rich Table of one run (recall as percentages; a Δ row against the dense baseline)."""
    keys = list(run.methods["graphmem"])
    title = f"{run.dataset}: {run.questions} questions, {run.stored_passages} passages"
    table = Table(title=title, title_justify="left")
    table.add_column("method")
    for key in keys:
        label = key.replace("recall@", "R@").replace("all@", "All@")
        table.add_column(f"{label} %", justify="right")
    table.add_column("ms / query", justify="right")
    for method in METHODS:
        scores = run.methods[method]
        ms = run.method_ms.get(method)
        name = method if method != "bm25" else f"bm25 ({run.bm25_stemmer} stemmer)"
        table.add_row(
            name, *(_pct(scores[k]) for k in keys), f"{ms:.2f}" if ms is not None else "-"
        )
    delta = [f"{100 * (run.methods['graphmem'][k] - run.methods['dense'][k]):+.1f}" for k in keys]
    table.add_row("[dim]graphmem − dense[/dim]", *(f"[dim]{d}[/dim]" for d in delta), "")
    differs = run.differs() if run.golds else []
    if differs:
        # where the graph changed dense's top 2: a regression shows here first
        on = run.methods_on(differs)
        for method in ("graphmem", "dense"):
            table.add_row(
                f"[dim]{method}, the {len(differs)} questions whose top 2 differ[/dim]",
                *(f"[dim]{_pct(on[method][k])}[/dim]" for k in keys),
                "",
            )

    p50, p95 = percentile(run.query_ms, 50), percentile(run.query_ms, 95)
    lines = [
        f"ingest {run.ingest_s:.1f} s · graphmem query p50 {p50:.1f} ms, p95 {p95:.1f} ms "
        f"(embedding included) · peak RSS {run.peak_rss_mb:.0f} MB",
        f"extractor {run.extractor} · store {run.store} · namespace {run.namespace}",
    ]
    if run.cold:
        lines.append(
            f"a new process: import graphmem {run.cold['import_s']:.2f} s, "
            f"first answer {run.cold['first_answer_s']:.2f} s"
        )
    extra = []
    if run.modes:
        extra.append("ranking modes " + ", ".join(f"{m} {n}" for m, n in sorted(run.modes.items())))
    if run.ingest is not None:
        r = run.ingest
        extra.append(
            f"ingest added {r.passages_added}, skipped {r.passages_skipped} (already stored), "
            f"failed {r.passages_failed}; facts added {r.facts_added}"
        )
    if run.corpus_passages != run.stored_passages:
        extra.append(
            f"{run.corpus_passages} corpus passages share {run.stored_passages} distinct texts"
        )
    if run.skipped:
        extra.append(f"{len(run.skipped)} empty passages skipped")
    if extra:
        lines.append(" · ".join(extra))
    skipped = skipped_line(run.skipped_questions)
    if skipped:
        lines.append(skipped)
    table.caption = "\n".join(lines)
    table.caption_justify = "left"
    return table


def print_run(run: BenchRun, console: Console | None = None) -> None:
    """Print the table of ``run`` (to stdout unless a console is given)."""
    (console or Console()).print(render_table(run))
