"""The demo behind ``make demo``: ingest a small corpus offline, answer its two-hop questions.

Everything runs locally (SQLite, spaCy, the bundled MiniLM model): no key, no network.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from graphmem.bench.baselines import dense_search
from graphmem.cli.terminal import console, print_result
from graphmem.memory import iter_jsonl, read_documents


def run_demo(corpus: Path, questions: Path, store: str | None = None, k: int = 3) -> None:
    """Ingest ``corpus`` into ``store`` (a fresh temporary file by default) and answer ``questions``."""
    from graphmem.memory import Memory

    tmp = None
    if store is None:
        tmp = tempfile.TemporaryDirectory(prefix="graphmem-demo-")
        store = f"sqlite:///{tmp.name}/demo.db"
    try:
        with Memory(store, extractor="nlp") as mem:
            t0 = time.perf_counter()
            report = mem.add_many(read_documents(corpus), progress=True)
            console.print(
                f"ingested {report.passages_added} passages, {report.entities_added} entities, "
                f"{report.facts_added} facts, {report.synonym_edges} synonym edges "
                f"in {time.perf_counter() - t0:.1f}s\n"
            )
            found_graph = found_dense = total = 0
            for _, q in iter_jsonl(questions):
                result = mem.search(q["question"], k=k)
                print_result(result)
                gold = set(q.get("gold_passage_ids") or [])
                if gold:
                    found = {h.passage.source for h in result.passages}
                    dense = dense_search(mem.store, mem.embedder, mem.namespace, [q["question"]], k)
                    dense_sources = {
                        getattr(node, "source", None)
                        for node in mem.get_nodes([pid for pid, _ in dense[0]]).values()
                    }
                    found_graph += len(gold & found)
                    found_dense += len(gold & dense_sources)
                    total += len(gold)
                    console.print(
                        f"   [dim]gold passages in top {k}: {len(gold & found)}/{len(gold)} "
                        f"(dense alone: {len(gold & dense_sources)}/{len(gold)}); "
                        f"answer: {', '.join(q.get('answers', []))}[/dim]"
                    )
                console.rule()
            if total:
                console.print(
                    f"[bold]gold passages found in the top {k}:[/bold] graphmem {found_graph}/{total}"
                    f", dense retrieval alone {found_dense}/{total}"
                )
    finally:
        if tmp is not None:
            tmp.cleanup()
