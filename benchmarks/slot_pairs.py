"""Precision and recall of slot matching on labelled relation pairs, by threshold.

A pair is predicted "same slot" when both facts get a slot (graphmem.ingest.slots) and the slots
are equal. Run: ``python benchmarks/slot_pairs.py [--pairs tests/data/lifecycle/slot_pairs.jsonl]``.
Prints a table of thresholds and the rows of the wrong decisions at the shipped threshold.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from graphmem.embed.local import LocalEmbedder
from graphmem.ingest.slots import THRESHOLD, SlotMatcher
from graphmem.models import Fact

PAIRS = Path(__file__).resolve().parents[1] / "tests" / "data" / "lifecycle" / "slot_pairs.jsonl"


def pair_facts(row: dict[str, Any]) -> tuple[Fact, Fact]:
    """The two facts of a labelled pair, as the offline extractor writes them ("Dana moved to X")."""
    out = []
    for side in ("a", "b"):
        pred, obj = row[side]
        out.append(
            Fact(
                id=f"f:{side}",
                subject="e:dana",
                predicate=pred,
                object=f"e:{obj}",
                text=f"Dana {pred} {obj}",
            )
        )
    return out[0], out[1]


def score(matcher: SlotMatcher, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Precision, recall and the wrong rows at the matcher's threshold."""
    tp = fp = fn = 0
    wrong = []
    for row in rows:
        a, b = pair_facts(row)
        sa, sb = matcher.slot(a), matcher.slot(b)
        said = sa is not None and sb is not None and sa[:2] == sb[:2]
        if said and row["same"]:
            tp += 1
        elif said:
            fp += 1
        elif row["same"]:
            fn += 1
        if said != row["same"]:
            wrong.append((row["a"], row["b"], row["same"], sa, sb))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": precision, "recall": recall, "tp": tp, "fp": fp, "fn": fn, "wrong": wrong}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=Path, default=PAIRS)
    args = ap.parse_args()
    rows = [json.loads(x) for x in args.pairs.read_text(encoding="utf-8").splitlines() if x]
    matcher = SlotMatcher(LocalEmbedder())
    print(f"{len(rows)} pairs, {sum(r['same'] for r in rows)} same-slot")
    print("threshold precision recall tp fp fn")
    for t in [0.5, 0.55, 0.6, 0.65, 0.7, 0.72, 0.75, 0.78, 0.8, 0.82, 0.85, 0.9, 0.95, 1.0]:
        matcher.threshold = t
        s = score(matcher, rows)
        print(f"{t:.2f} {s['precision']:.3f} {s['recall']:.3f} {s['tp']} {s['fp']} {s['fn']}")
        for w in s["wrong"]:
            if not w[2]:
                print("    false positive:", w[0], w[1])
    matcher.threshold = THRESHOLD
    s = score(matcher, rows)
    print(f"shipped {THRESHOLD}: precision {s['precision']:.3f} recall {s['recall']:.3f}")
    for w in s["wrong"]:
        print("  wrong:", w)


if __name__ == "__main__":
    main()
