"""Forgetting without loss, measured (issue 22): archive the weakest facts and episodes of a
conversation folder, ask its questions again, restore, ask again.

Each run is ``graphmem bench``'s conversation run (:func:`graphmem.bench.conversation_runner.
run_conversation`: evidence-turn recall of ``Memory.search(include=["episodes"])``, with dense
and BM25 over the same turns, which ignore archives, as the bar). Printed as JSON: R@5 and R@10
before archiving, after it and after ``restore``; how many episodes and evidence turns were
archived; whether every ranking after the restore equals the one before. ``--random`` archives
a random share of the episodes instead (same count as the policy's), the bar strength must beat.

    python benchmarks/forget_bench.py ../shared/bench/locomo_dev \\
        --store sqlite:////tmp/locomo_life.db --policy quota:50%
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import UTC, datetime
from typing import Any

from graphmem.bench.common import bench_namespace
from graphmem.bench.conversation import load_conversation
from graphmem.bench.conversation_runner import run_conversation
from graphmem.lifecycle.strength import StrengthSettings
from graphmem.memory import Memory
from graphmem.models import LifecycleEvent

KS = (5, 10)


def figures(run: Any) -> dict[str, float]:
    out = {}
    for method in ("graphmem", "dense", "bm25"):
        for k in KS:
            out[f"{method} R@{k}"] = round(100 * float(run.methods[method][f"recall@{k}"]), 2)
    return out


def archive_random(mem: Memory, ns: str, n: int, seed: int) -> list[str]:
    ids = mem.store.list_ids(ns, "episode", limit=10_000)
    chosen = random.Random(seed).sample(ids, min(n, len(ids)))
    now = datetime.now(UTC)
    mem.store.record_lifecycle(
        ns,
        [
            LifecycleEvent(node_id=i, kind="episode", event="archived", state="archived", at=now)
            for i in chosen
        ],
    )
    return chosen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--store", required=True)
    ap.add_argument("--policy", default="quota:50%")
    ap.add_argument("--stability-days", type=float, default=StrengthSettings().stability_days)
    ap.add_argument("--content-weight", type=float, default=StrengthSettings().content_weight)
    ap.add_argument("--random", action="store_true", help="archive a random share instead")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=None, help="questions (stratified)")
    args = ap.parse_args(argv)

    ds = load_conversation(args.folder)
    settings = StrengthSettings(
        stability_days=args.stability_days, content_weight=args.content_weight
    )
    with Memory(
        args.store, extractor="nlp", namespace=bench_namespace(ds.name, "nlp"), strength=settings
    ) as mem:
        before = run_conversation(mem, ds, KS, limit=args.limit, progress=False)
        gold = {(q.conversation_id, d) for q in before.asked for d in q.evidence_ids}
        archived: dict[str, list[str]] = {}
        for ns in before.namespaces:
            report = mem.forget(policy=args.policy, namespace=ns, dry_run=args.random)
            eps = [i for i in report.ids if i.startswith("ep:")]
            if args.random:
                mem.restore(all_archived=True, namespace=ns)  # none: a dry run archives nothing
                eps = archive_random(mem, ns, len(eps), args.seed)
            archived[ns] = eps
        lost = 0
        for ns, ids in archived.items():
            conv = ns.rsplit(".", 1)[1]
            for ep in mem.store.get_episodes(ns, ids).values():
                dia = str(ep.metadata.get("dia_id", ""))
                lost += any((c, dia) in gold for c in (conv, conv.replace("_", "-")))
        after = run_conversation(mem, ds, KS, limit=args.limit, progress=False)
        for ns in before.namespaces:
            mem.restore(all_archived=True, namespace=ns)
        restored = run_conversation(mem, ds, KS, limit=args.limit, progress=False)
    episodes = sum(len(mem_ids) for mem_ids in archived.values())
    print(
        json.dumps(
            {
                "folder": ds.name,
                "policy": "random" if args.random else args.policy,
                "stability_days": args.stability_days,
                "content_weight": args.content_weight,
                "questions": before.questions,
                "episodes": before.episodes,
                "episodes_archived": episodes,
                "evidence_turns": len(gold),
                "evidence_turns_archived": lost,
                "before": figures(before),
                "archived": figures(after),
                "restored": figures(restored),
                "restored_rankings_identical": restored.rankings["graphmem"]
                == before.rankings["graphmem"],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
