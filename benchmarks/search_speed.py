"""Passage search speed against dense search in the same process, stage by stage, and a new
process's first answer (issue 23, item 2). Run on demand; nothing imports it.

    PYTHONPATH=. python benchmarks/search_speed.py /tmp/mt.db bench.musique_train.precomputed \\
        --questions ../shared/bench/musique_train/questions.jsonl --profile --first 3

``db`` is a bench store (``graphmem bench --store``). Every question is asked once untimed
(caches neither side keeps across runs), then ``--rounds`` times timed, each graphmem search
(``Memory.search(k=5)``, default units) followed by a dense search of the same question
(embedding + vector search, k=5), so the ratios hold under whatever else loads the machine.
``--unseen`` warms up on other questions, so no timed question was
asked before (anything kept between searches is met as a new question meets it). ``--profile``
runs one more pass under cProfile and prints graphmem's functions by cumulative
time; ``--first`` times a new process from its start to its first answer (and its import).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

from graphmem.bench.baselines import dense_search
from graphmem.memory import Memory

K = 5


def pct(xs: list[float], q: float) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def first_answer(db: Path, namespace: str, question: str) -> dict[str, float]:
    """Seconds to import graphmem, open the store and answer, in a new process."""
    code = (
        "import time; t0=time.perf_counter()\n"
        "from graphmem import Memory\n"
        "t1=time.perf_counter()\n"
        f"m = Memory(store={f'sqlite:///{db}'!r})\n"
        f"r = m.search({question!r}, k={K}, namespace={namespace!r})\n"
        "t2=time.perf_counter()\n"
        "print(t1-t0, t2-t0, r.timings_ms.get('embed', 0)/1e3)\n"
    )
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    t = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - t
    imp, inner, embed = (float(x) for x in done.stdout.strip().splitlines()[-1].split())
    return {"wall_s": wall, "import_s": imp, "inner_s": inner, "first_embed_s": embed}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("db", type=Path)
    ap.add_argument("namespace")
    ap.add_argument("--questions", type=Path, required=True, help="a questions.jsonl")
    ap.add_argument("-n", type=int, default=100, help="questions to ask")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument(
        "--unseen",
        action="store_true",
        help="warm up on other questions (the last n of the file), so no timed question was "
        "asked before: anything kept between searches is then met as by a new question",
    )
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--first", type=int, default=0, help="new processes to time")
    args = ap.parse_args()
    lines = args.questions.read_text().splitlines()
    every = [json.loads(line)["question"] for line in lines]
    qs = every[: args.n]
    warm = every[-args.n :] if args.unseen else qs
    if args.unseen and (set(warm) & set(qs) or args.rounds != 1):
        raise SystemExit("--unseen needs at least 2n questions in the file and --rounds 1")
    mem = Memory(f"sqlite:///{args.db}")
    ns = args.namespace
    for q in warm:  # untimed
        mem.search(q, k=K, namespace=ns)
        dense_search(mem.store, mem.embedder, ns, [q], K)
    g_ms: list[float] = []
    d_ms: list[float] = []
    parts: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for q in qs:
            t = time.perf_counter()
            res = mem.search(q, k=K, namespace=ns)
            g_ms.append((time.perf_counter() - t) * 1e3)
            t = time.perf_counter()
            dense_search(mem.store, mem.embedder, ns, [q], K)
            d_ms.append((time.perf_counter() - t) * 1e3)
            for name, ms in res.timings_ms.items():
                parts.setdefault(name, []).append(ms)
    g50, g95, d50 = statistics.median(g_ms), pct(g_ms, 0.95), statistics.median(d_ms)
    print(
        f"n={len(g_ms)} graphmem p50 {g50:.2f} p95 {g95:.2f} ms | dense p50 {d50:.2f} "
        f"p95 {pct(d_ms, 0.95):.2f} ms | ratio p50 {g50 / d50:.2f}x p95/p50 {g95 / g50:.2f}"
    )
    print(
        "stages (median ms): "
        + ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in parts.items())
    )
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for q in qs:
            mem.search(q, k=K, namespace=ns)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(45)
        print(out.getvalue())
    mem.close()
    for _ in range(args.first):
        print(
            "first answer:", {k: round(v, 3) for k, v in first_answer(args.db, ns, qs[0]).items()}
        )


if __name__ == "__main__":
    main()
