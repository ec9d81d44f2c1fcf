"""Cross-folder sweep of the episode path (conversation folders: LoCoMo, LongMemEval), judged by
its worst case, as ``benchmarks/sweep.py`` does for passages.

Each folder is run as ``graphmem bench`` runs it (:func:`graphmem.bench.conversation_runner.
run_conversation`: a conversation already in the store is not ingested again), once per setting
of the grid, with dense and BM25 over the same turns as the bar. A folder spec is
``PATH=STORE_URL``; ``--limit N`` asks N stratified questions of each folder; ``--ks 5,10,50``
the cuts judged (LongMemEval's harness asks k = 50). Per setting and
folder (and, with ``--halves``, each half of its questions): evidence-turn R@k minus
max(dense, BM25), the worst category gap at R@10, and for folders with session gold
(LongMemEval) session recall_all@5; the worst of the gaps across folders ranks the settings.

    python benchmarks/sweep_episodes.py ../shared/bench/locomo_dev=sqlite:////tmp/locomo.db \\
        /tmp/lme/longmemeval_dev=sqlite:////tmp/lme.db --halves \\
        --grid '{"session_weight": [0, 0.5], "bm25_weight": [0.5, 1]}' --json sweep.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from graphmem.bench.common import bench_namespace
from graphmem.bench.conversation import ConversationQuestion, load_conversation
from graphmem.bench.conversation_runner import run_conversation, score
from graphmem.bench.longmemeval import has_session_gold
from graphmem.memory import Memory
from graphmem.retrieve.episodes import EpisodeSearchSettings

KS = (5, 10)
GRID_AXES: dict[str, list[Any]] = {"session_weight": [0.0, 0.5], "bm25_weight": [0.5, 1.0]}


def grid(axes: dict[str, list[Any]] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every combination of the axes (a list of settings: those, as given)."""
    if isinstance(axes, list):
        return axes
    keys = list(axes)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*axes.values())]


def settings_of(point: dict[str, Any]) -> EpisodeSearchSettings:
    values = dict(point)
    if "gate" in values:
        values["gate_low"], values["gate_high"] = values.pop("gate")
    return replace(EpisodeSearchSettings(), **values)


def session_all(q: ConversationQuestion, ranks: list[tuple[str, ...]], k: int) -> float | None:
    """LongMemEval's recall_all@k: every gold session among the first k sessions of the turns."""
    gold = set(q.extra.get("answer_session_ids") or ())
    if not gold:
        return None
    seen: list[str] = []
    for dias in ranks:
        for dia in dias:
            sid = dia.split("#", 1)[0]
            if sid not in seen:
                seen.append(sid)
    return 1.0 if gold <= set(seen[:k]) else 0.0


def cells(
    run: Any, part: slice, sessions: bool, ks: tuple[int, ...] = KS
) -> dict[str, dict[str, float]]:
    """Per method: R@k, the R@10 of each category and (with sessions) recall_all@5, in %."""
    out: dict[str, dict[str, float]] = {}
    asked = run.asked[part]
    for m, rankings in run.rankings.items():
        s = score(asked, rankings[part], ks)
        row = {f"R@{k}": 100 * float(s[f"recall@{k}"]) for k in ks}
        for cat, vals in s["by_category"].items():
            if vals.get("n_with_evidence", vals.get("n", 1)):
                row[f"cat:{cat}"] = 100 * float(vals.get("recall@10", 0.0))
        if sessions:
            got = [session_all(q, r, 5) for q, r in zip(asked, rankings[part], strict=True)]
            got = [g for g in got if g is not None]
            row["all@5"] = 100 * sum(got) / max(len(got), 1)
        out[m] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="+", help="PATH=STORE_URL")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--halves", action="store_true")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--ks", default="5,10", help="cuts judged, comma-separated (10 is kept)")
    ap.add_argument(
        "--grid",
        type=json.loads,
        default=GRID_AXES,
        help="axes as JSON ({name: [values]}) or a JSON list of settings",
    )
    args = ap.parse_args()
    ks = tuple(sorted({int(k) for k in args.ks.split(",")} | {10}))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    folders = []
    for spec in args.folders:
        path, _, url = spec.partition("=")
        ds = load_conversation(path)
        mem = Memory(url, extractor="nlp", namespace=bench_namespace(ds.name, "nlp"))
        folders.append((ds.name, ds, mem, has_session_gold(ds)))
    rows = []
    for point in grid(args.grid):
        gaps: dict[str, dict[str, float]] = {}
        recall: dict[str, Any] = {}
        for name, ds, mem, sessions in folders:
            mem.episode_search = settings_of(point)
            run = run_conversation(mem, ds, list(ks), limit=args.limit, progress=False)
            n = len(run.asked)
            parts = [(name, slice(None))]
            if args.halves:
                parts += [(name + "/A", slice(0, n // 2)), (name + "/B", slice(n // 2, None))]
            for label, part in parts:
                c = cells(run, part, sessions, ks)
                recall[label] = c
                g = {}
                for key in c["graphmem"]:
                    bar = max(c["dense"].get(key, 0.0), c["bm25"].get(key, 0.0))
                    g[key] = c["graphmem"][key] - bar
                gaps[label] = g
        worst = min(v for g in gaps.values() for key, v in g.items() if key.startswith("R@"))
        worst_cat = min(v for g in gaps.values() for key, v in g.items() if key.startswith("cat:"))
        mean = [v for g in gaps.values() for key, v in g.items() if key.startswith("R@")]
        row = {
            "setting": point,
            "worst_gap": worst,
            "worst_category_gap": worst_cat,
            "mean_gap": sum(mean) / len(mean),
            "gap": gaps,
            "recall": recall,
        }
        rows.append(row)
        print(
            f"{json.dumps(point):60s} worst R@ gap {worst:+5.1f} worst category {worst_cat:+5.1f}"
            f" mean {row['mean_gap']:+5.1f}",
            file=sys.stderr,
            flush=True,
        )
        for label, c in recall.items():
            print(
                f"  {label}: "
                + "; ".join(
                    f"{m} " + " ".join(f"{key} {v:.1f}" for key, v in c[m].items()) for m in c
                ),
                file=sys.stderr,
                flush=True,
            )
    rows.sort(key=lambda r: (-min(r["worst_gap"], r["worst_category_gap"]), -r["mean_gap"]))
    cuts = "/".join(f"R@{k}" for k in ks)
    print(f"\nsetting | worst R@ gap | worst category gap | mean | per folder {cuts} gap")
    for r in rows:
        per = " | ".join(
            f"{lb} " + "/".join(f"{g[f'R@{k}']:+.1f}" for k in ks) for lb, g in r["gap"].items()
        )
        print(
            f"{json.dumps(r['setting'])} | {r['worst_gap']:+.1f} | "
            f"{r['worst_category_gap']:+.1f} | {r['mean_gap']:+.1f} | {per}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"rows": rows, "defaults": asdict(EpisodeSearchSettings())}
        args.json.write_text(json.dumps(payload, indent=1, default=str))


if __name__ == "__main__":
    main()
