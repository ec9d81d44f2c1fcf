"""A conversation folder's evidence-turn recall before and after ``consolidate`` (issue 22:
every ``graphmem bench`` folder unchanged or better), then with every merge undone (session
units, ``--summaries``, stay: a restore undoes merges only).

Each run is ``graphmem bench``'s conversation run (:func:`graphmem.bench.conversation_runner.
run_conversation`) on a store the conversations are in (else they are ingested first).

    python benchmarks/consolidate_bench.py ../shared/bench/locomo_dev \\
        --store sqlite:////tmp/locomo_life.db
"""

from __future__ import annotations

import argparse
import json
import sys

from graphmem.bench.common import bench_namespace
from graphmem.bench.conversation import load_conversation
from graphmem.bench.conversation_result import ConversationRun
from graphmem.bench.conversation_runner import run_conversation
from graphmem.memory import Memory

KS = (5, 10)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--store", required=True)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--summaries", action="store_true", help="also a unit per session")
    args = ap.parse_args(argv)
    ds = load_conversation(args.folder)

    def recall(run: ConversationRun) -> dict[str, float]:
        methods = run.methods["graphmem"]
        return {f"R@{k}": round(100 * float(methods[f"recall@{k}"]), 2) for k in KS}

    with Memory(args.store, extractor="nlp", namespace=bench_namespace(ds.name, "nlp")) as mem:
        before = run_conversation(mem, ds, KS, limit=args.limit, progress=False)
        merged: dict[str, list[str]] = {}
        counts = {"entities": 0, "facts": 0, "session_units": 0}
        for ns in before.namespaces:
            report = mem.consolidate(namespace=ns, summaries=args.summaries)
            merged[ns] = [m["id"] for m in report.merges]
            counts["entities"] += report.merged_entities
            counts["facts"] += report.folded_facts
            counts["session_units"] += report.session_units
        after = run_conversation(mem, ds, KS, limit=args.limit, progress=False)
        for ns, ids in merged.items():
            if ids:
                mem.restore(ids, namespace=ns)
        undone = run_conversation(mem, ds, KS, limit=args.limit, progress=False)
    print(
        json.dumps(
            {
                "folder": ds.name,
                "questions": before.questions,
                "merged": counts,
                "before": recall(before),
                "consolidated": recall(after),
                "rankings_unchanged": after.rankings["graphmem"] == before.rankings["graphmem"],
                "undone": recall(undone),
                "undone_identical": undone.rankings["graphmem"] == before.rankings["graphmem"],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
