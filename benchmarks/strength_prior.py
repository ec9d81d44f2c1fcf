"""Does strength help ranking? ``graphmem bench``'s conversation run (evidence-turn R@5/R@10 of
``Memory.search(include=["episodes"])``) once per ``StrengthSettings.prior_weight`` (0: off, the
default), on a store the conversations are already in (else they are ingested first).

    python benchmarks/strength_prior.py ../shared/bench/locomo_dev \\
        --store sqlite:////tmp/locomo_life.db --weights 0 0.1 0.3
"""

from __future__ import annotations

import argparse
import json
import sys

from graphmem.bench.common import bench_namespace
from graphmem.bench.conversation import load_conversation
from graphmem.bench.conversation_runner import run_conversation
from graphmem.lifecycle.strength import StrengthSettings
from graphmem.memory import Memory


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--store", required=True)
    ap.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.1, 0.3])
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args(argv)
    ds = load_conversation(args.folder)
    out = {}
    for w in args.weights:
        with Memory(
            args.store,
            extractor="nlp",
            namespace=bench_namespace(ds.name, "nlp"),
            strength=StrengthSettings(prior_weight=w),
        ) as mem:
            run = run_conversation(mem, ds, (5, 10), limit=args.limit, progress=False)
        out[str(w)] = {
            f"R@{k}": round(100 * float(run.methods["graphmem"][f"recall@{k}"]), 2) for k in (5, 10)
        }
    print(json.dumps({"folder": ds.name, "questions": run.questions, "by_weight": out}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
