"""Duplicate entities found by ``consolidate`` on the notes folder, against labelled pairs.

``examples/data/notes/duplicate_pairs.jsonl`` names pairs of entity nodes (by name, as the
offline extractor names them) and whether they are one thing. The folder is ingested with
``--extractor nlp`` into ``--store`` (skipped when already there), then ``Memory.consolidate``
runs as a dry run. A positive pair is *found* when one of its entities merges into the other;
a negative pair merged is a *wrong merge*. Merges outside the labels are listed, to be read.

    python benchmarks/consolidation_eval.py --store sqlite:////tmp/notes.db
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from graphmem.ingest.sources import read_documents
from graphmem.memory import Memory

NOTES = Path(__file__).resolve().parent.parent / "examples" / "data" / "notes"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--namespace", default="notes")
    ap.add_argument("--pairs", default=str(NOTES / "duplicate_pairs.jsonl"))
    args = ap.parse_args(argv)
    pairs = [json.loads(x) for x in Path(args.pairs).read_text(encoding="utf-8").splitlines() if x]
    with Memory(args.store, extractor="nlp", namespace=args.namespace) as mem:
        if not mem.stats().passages:
            mem.add_many(read_documents(NOTES / "docs"), replace_sources=True)
        ids = mem.store.list_ids(args.namespace, "entity", limit=10_000)
        entities = mem.store.get_entities(args.namespace, ids)
        report = mem.consolidate(dry_run=True)
    by_name = {e.name: e.id for e in entities.values()}
    name_of = {e.id: e.name for e in entities.values()}
    merged = {frozenset((m["id"], m["into"])) for m in report.merges if m["kind"] == "entity"}
    missing, found, missed, wrong, labelled = [], 0, [], [], set()
    for p in pairs:
        a, b = by_name.get(p["a"]), by_name.get(p["b"])
        if a is None or b is None:
            missing.append(p)
            continue
        key = frozenset((a, b))
        labelled.add(key)
        if p["same"] and key in merged:
            found += 1
        elif p["same"]:
            missed.append(f"{p['a']} | {p['b']}")
        elif key in merged:
            wrong.append(f"{p['a']} | {p['b']}")
    positives = sum(1 for p in pairs if p["same"] and p not in missing)
    unlabelled = sorted(
        " -> ".join(name_of[i] for i in (m["id"], m["into"]))
        for m in report.merges
        if m["kind"] == "entity" and frozenset((m["id"], m["into"])) not in labelled
    )
    out = {
        "pairs": len(pairs),
        "pairs_missing_an_entity": len(missing),
        "positives": positives,
        "found": found,
        "recall": round(found / positives, 3) if positives else None,
        "negatives": sum(1 for p in pairs if not p["same"] and p not in missing),
        "wrong_merges": wrong,
        "missed": missed,
        "entity_merges": report.merged_entities,
        "unlabelled_merges": unlabelled,
        "folded_facts": report.folded_facts,
    }
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
