"""Episode search speed against dense search in the same process, and a ranking-identity check
(issue 20, item 5). Run on demand; nothing imports it.

    PYTHONPATH=. python benchmarks/episode_speed.py ../shared/bench/longmemeval_dev \\
        --db /tmp/speed/bench.db --save /tmp/speed/before.json
    PYTHONPATH=. python benchmarks/episode_speed.py ../shared/bench/longmemeval_dev \\
        --db /tmp/speed/bench.db --compare /tmp/speed/before.json

``--db`` is a bench store (``graphmem bench --store``) holding ingested histories, namespaces
``bench.<folder>.nlp.<conversation>``. In one new process, for each such namespace: the
namespace's own question at its time (the FIRST query on the namespace, as the harness asks it),
then ``--questions`` other questions of the folder, each at its own ``as_of`` (the question's
time minus i days, so the as-of view changes as it does in the harness). After each graphmem
search a dense search of the same question (embedding + vector search, k=50) is timed, so the
ratios hold under whatever else loads the machine. ``--save`` writes every ranking (ids and
scores); ``--compare`` fails unless each is the same (same ids in the same order, scores within
1e-6). ``--warm`` first calls ``Memory.warm`` on each namespace (what a bulk ingest does at
its end, and a server may do on open), so the first query is timed as the harness meets it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

from graphmem.bench.conversation import load_conversation
from graphmem.bench.longmemeval import question_times
from graphmem.memory import Memory

K = 50


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.array(xs), q)) if xs else 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", type=Path)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--questions", type=int, default=20)
    ap.add_argument("--save", type=Path)
    ap.add_argument("--compare", type=Path)
    ap.add_argument("--warm", action="store_true", help="Memory.warm each namespace first (timed)")
    args = ap.parse_args()
    ds = load_conversation(args.folder)
    times = question_times(ds)
    by_conv = {q.conversation_id: q for q in ds.questions if q.id in times}
    others = [q.question for q in ds.questions][: args.questions]
    mem = Memory(f"sqlite:///{args.db}", extractor="nlp")
    prefix = f"bench.{args.folder.name}.nlp."
    spaces = [ns for ns in mem.store.namespaces() if ns.startswith(prefix)]
    mem.embedder.embed(["warm the model up"], kind="query")  # model load is not a query
    rankings: dict[str, list[tuple[str, float]]] = {}
    first: list[tuple[float, float]] = []
    later: list[tuple[float, float]] = []

    def ask(ns: str, question: str, when: object, key: str) -> tuple[float, float]:
        t = time.perf_counter()
        res = mem.search(question, k=K, namespace=ns, include=["episodes"], as_of=when)  # type: ignore[arg-type]
        g = (time.perf_counter() - t) * 1e3
        t = time.perf_counter()
        mem.store.vector_search(ns, "episode", mem.embedder.embed([question], kind="query"), K)
        d = (time.perf_counter() - t) * 1e3
        rankings[key] = [(h.episode.id, float(h.score)) for h in res.episodes]
        return g, d

    for ns in spaces if args.warm else ():
        t = time.perf_counter()
        mem.warm(ns)
        print(f"{ns}: warm {(time.perf_counter() - t) * 1e3:.1f} ms", flush=True)
    for ns in spaces:
        q = by_conv[ns[len(prefix) :]]
        when = times[q.id]
        g, d = ask(ns, q.question, when, f"{ns}|own")
        first.append((g, d))
        print(f"{ns}: first query {g:.1f} ms, dense {d:.1f} ms", flush=True)
        for i, other in enumerate(others):
            later.append(ask(ns, other, when - timedelta(days=i), f"{ns}|{i}"))
    mem.close()
    allq = first + later
    for label, rows in (("first", first), ("later", later), ("all", allq)):
        g = [r[0] for r in rows]
        d = [r[1] for r in rows]
        print(
            f"{label:<6} n={len(rows):3d}  graphmem p50 {pct(g, 50):7.1f} p95 {pct(g, 95):7.1f} "
            f"max {max(g):7.1f} ms | dense p50 {pct(d, 50):6.1f} p95 {pct(d, 95):6.1f} ms | "
            f"ratio p50 {pct(g, 50) / pct(d, 50):5.2f}x p95/dense-p50 "
            f"{pct(g, 95) / pct(d, 50):5.2f}x"
        )
    if args.save:
        args.save.write_text(json.dumps(rankings))
    if args.compare:
        ref = json.loads(args.compare.read_text())
        bad = 0
        for key, want in ref.items():
            got = rankings.get(key)
            if got is None or [i for i, _ in got] != [i for i, _ in want]:
                bad += 1
                print(f"DIFFERENT ranking: {key}")
            elif max((abs(a[1] - b[1]) for a, b in zip(got, want, strict=True)), default=0) > 1e-6:
                bad += 1
                print(f"DIFFERENT scores: {key}")
        print(f"ranking check: {len(ref) - bad}/{len(ref)} identical (ids, scores within 1e-6)")
        if bad:
            sys.exit(1)


if __name__ == "__main__":
    main()
