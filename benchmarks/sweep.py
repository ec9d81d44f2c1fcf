"""Cross-dataset sweep: every retrieval setting of a grid on every dataset folder, judged by its
worst case, so defaults are chosen for data nobody tuned on rather than for one folder's best.

Each folder is ingested once into a cached store (``--store-dir``; a second run only searches),
then every setting of the grid ranks every question on the same store and embeddings. Dense and
BM25 are computed once per folder, as ``graphmem bench`` computes them. A folder spec is
``PATH`` or ``PATH:EXTRACTOR`` (``musique_train:nlp`` ingests without the folder's triples); with
``--halves`` each folder is also scored on the first and the second half of its questions.

The table: per setting, per folder, graphmem's R@2/R@5 minus max(dense, BM25) (the bar every
folder must clear), and the worst of these gaps across folders and both k. The JSON keeps every
figure.

    python benchmarks/sweep.py ../shared/bench/musique_train ../shared/bench/musique_train:nlp \\
        examples/data/demo --halves --json artifacts/sweep.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from graphmem.bench.baselines import BM25Index, dense_search
from graphmem.bench.common import bench_namespace
from graphmem.bench.data import MultihopDataset, load_dataset
from graphmem.bench.metrics import mean_recall_at_k
from graphmem.bench.runner import PassageMap, corpus_documents, resolve_extractor
from graphmem.memory import Memory
from graphmem.retrieve.passages import PassageSearchSettings

KS = (2, 5)
#: the grid: each entry is one setting, as changes to PassageSearchSettings' defaults
GRID_AXES: dict[str, list[Any]] = {
    "bm25_weight": [0.0, 0.3, 0.5],
    "protect_top": [0, 1, 2],
    "gate": [(0.0, 0.0), (0.2, 0.5)],
}


@dataclass
class Folder:
    label: str
    mem: Memory
    questions: list[str]
    golds: list[list[str]]
    pmap: PassageMap
    baselines: dict[str, list[list[tuple[str, ...]]]]


def grid(axes: dict[str, list[Any]]) -> list[dict[str, Any]]:
    keys = list(axes)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*axes.values())]


def settings_of(point: dict[str, Any]) -> PassageSearchSettings:
    values = dict(point)
    if "gate" in values:
        values["gate_low"], values["gate_high"] = values.pop("gate")
    return replace(PassageSearchSettings(), **values)


def open_folder(spec: str, store_dir: Path) -> Folder:
    path, _, ex_name = spec.partition(":")
    ds = load_dataset(path)
    if not isinstance(ds, MultihopDataset):
        raise SystemExit(f"{path}: only multi-hop folders are swept (conversations use episodes)")
    ex, resolved = resolve_extractor(ex_name or "auto", ds)
    ns = bench_namespace(ds.name, resolved)
    store_dir.mkdir(parents=True, exist_ok=True)
    mem = Memory(f"sqlite:///{store_dir / f'{ds.name}-{resolved}.db'}", extractor=ex, namespace=ns)
    groups = ds.groups()
    docs = corpus_documents(groups)
    t0 = time.perf_counter()
    mem.add_many(docs, progress=True)
    print(f"{ds.name}:{resolved}: ingest {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    pmap = PassageMap(mem.store, ns, groups)
    questions = [q.question for q in ds.questions]
    golds = [list(q.gold_ids) for q in ds.questions]
    top = max(KS)
    dense = dense_search(mem.store, mem.embedder, ns, questions, top)
    bm25 = BM25Index([g.text for g in groups]).search(questions, top)
    baselines = {
        "dense": [[pmap.resolve(p) for p, _ in hits] for hits in dense],
        "bm25": [[groups[i].corpus_ids for i, _ in hits] for hits in bm25],
    }
    return Folder(f"{ds.name}:{resolved}", mem, questions, golds, pmap, baselines)


def rank(folder: Folder, settings: PassageSearchSettings) -> list[list[tuple[str, ...]]]:
    folder.mem.passage_search = settings
    out = []
    for q in folder.questions:
        res = folder.mem.search(q, k=max(KS), include=["passages"])
        out.append([folder.pmap.resolve(h.passage.id, h.passage) for h in res.passages])
    return out


def scores(
    rankings: list[list[tuple[str, ...]]], golds: list[list[str]], part: slice
) -> dict[int, float]:
    return {k: 100 * mean_recall_at_k(rankings[part], golds[part], k) for k in KS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="+", help="PATH or PATH:EXTRACTOR")
    ap.add_argument("--store-dir", type=Path, default=Path.home() / ".cache/graphmem/sweep")
    ap.add_argument("--halves", action="store_true", help="also score each half of the questions")
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--grid",
        type=json.loads,
        default=GRID_AXES,
        help='axes as JSON, e.g. \'{"protect_top": [1, 2], "gate": [[0.2, 0.5]]}\'',
    )
    args = ap.parse_args()
    # the bundled model only: never a hub download
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    folders = [open_folder(spec, args.store_dir) for spec in args.folders]
    parts: list[tuple[str, Folder, slice]] = []
    for f in folders:
        parts.append((f.label, f, slice(None)))
        if args.halves:
            half = len(f.questions) // 2
            parts += [(f.label + "/A", f, slice(0, half)), (f.label + "/B", f, slice(half, None))]
    bars = {
        label: {
            k: max(scores(f.baselines[m], f.golds, part)[k] for m in ("dense", "bm25")) for k in KS
        }
        for label, f, part in parts
    }
    rows = []
    for point in grid(args.grid):
        settings = settings_of(point)
        ranked = {f.label: rank(f, settings) for f in folders}
        cells = {label: scores(ranked[f.label], f.golds, part) for label, f, part in parts}
        gaps = {label: {k: cells[label][k] - bars[label][k] for k in KS} for label in cells}
        worst = min(g[k] for g in gaps.values() for k in KS)
        mean = sum(g[k] for g in gaps.values() for k in KS) / (len(gaps) * len(KS))
        rows.append(
            {"setting": point, "worst_gap": worst, "mean_gap": mean, "recall": cells, "gap": gaps}
        )
        print(f"{json.dumps(point):60s} worst {worst:+5.1f} mean {mean:+5.1f}", file=sys.stderr)
    rows.sort(key=lambda r: (-r["worst_gap"], -r["mean_gap"]))
    labels = [label for label, _, _ in parts]
    print("\nsetting | worst | mean | " + " | ".join(f"{lb} R@2/R@5 gap" for lb in labels))
    for r in rows:
        cells = " | ".join(f"{r['gap'][lb][2]:+.1f}/{r['gap'][lb][5]:+.1f}" for lb in labels)
        print(
            f"{json.dumps(r['setting'])} | {r['worst_gap']:+.1f} | {r['mean_gap']:+.1f} | {cells}"
        )
    print(
        "\nbars (max of dense, BM25): "
        + ", ".join(f"{lb} {bars[lb][2]:.1f}/{bars[lb][5]:.1f}" for lb in labels)
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {"bars": bars, "rows": rows, "defaults": asdict(PassageSearchSettings())},
                indent=1,
                default=str,
            )
        )


if __name__ == "__main__":
    main()
