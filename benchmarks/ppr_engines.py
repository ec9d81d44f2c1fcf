"""The two exact PageRank engines side by side: scipy's power iteration ("exact") and igraph's
PRPACK ("prpack"): time per query and how far their scores differ.

    python benchmarks/ppr_engines.py [--dataset ../shared/bench/musique_train] [--db PATH]
                                     [--sizes 10000 100000 1000000] [--queries 100] [--json PATH]

``musique``: the dataset's graph built through ``Memory`` from its ``triples.jsonl`` (the
precomputed extractor, the local embedder; reused from ``--db`` when it is there), and the real
seeds of its questions: each question is searched once with the walk recorded (graph, seeds,
damping, tol, max_iter as retrieval calls it), then the recorded walks are replayed on both
engines.

``synthetic``: for each size, :mod:`synthetic_graph`'s graph in a SQLite store, with
HippoRAG-like seeds (:func:`store_bench.seed_sets`: two facts' ends at weight 1, 200 passages at
0.05 x U(0, 1)), walked with retrieval's settings (``PassageSearchSettings``: damping, tol, max_iter).

For each graph: p50 and p95 milliseconds per query of each engine (after one warm-up query, so
the per-view caches, the walk matrix and the igraph graph, are built; their build times are
reported apart), and the largest absolute difference of any node's score between the engines,
with scipy at retrieval's tolerance and at 1e-10 (float64).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from graphmem.retrieve.passages import PassageSearchSettings  # noqa: E402
from graphmem.retrieve.ppr import pagerank_vector  # noqa: E402
from graphmem.store.graph import GraphView  # noqa: E402

Walk = tuple[GraphView, dict[int, float], float, float, int]  # graph, seeds, damping, tol, iters


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values), q)), 3)


def compare(walks: list[Walk]) -> dict[str, Any]:
    """Time both engines on ``walks`` and measure how far apart their scores are."""
    graph = walks[0][0]

    def scipy_run(w: Walk) -> np.ndarray:
        g, s, d, tol, iters = w
        return pagerank_vector(g, s, damping=d, tol=tol, max_iter=iters, engine="exact")

    def prpack_run(w: Walk) -> np.ndarray:
        g, s, d, _, _ = w
        return pagerank_vector(g, s, damping=d, engine="prpack")

    builds = {}
    for name, fn in (("exact", scipy_run), ("prpack", prpack_run)):
        t0 = time.perf_counter()
        fn(walks[0])  # builds the view's cached walk matrix / igraph graph
        builds[name] = round((time.perf_counter() - t0) * 1000, 1)
    times: dict[str, list[float]] = {"exact": [], "prpack": []}
    diff, diff_tight = 0.0, 0.0
    for w in walks:
        out = {}
        for name, fn in (("exact", scipy_run), ("prpack", prpack_run)):
            t0 = time.perf_counter()
            out[name] = fn(w)
            times[name].append((time.perf_counter() - t0) * 1000)
        diff = max(diff, float(np.abs(out["exact"] - out["prpack"]).max()))
        g, s, d, _, _ = w
        tight = pagerank_vector(g, s, damping=d, tol=1e-10, max_iter=10_000, engine="exact")
        diff_tight = max(diff_tight, float(np.abs(tight - out["prpack"]).max()))
    return {
        "nodes": graph.num_nodes,
        "edges": int(graph.matrix().nnz // 2),
        "queries": len(walks),
        "tol": walks[0][3],
        "first_call_ms": builds,
        "p50_ms": {k: pct(v, 50) for k, v in times.items()},
        "p95_ms": {k: pct(v, 95) for k, v in times.items()},
        "max_abs_diff": diff,
        "max_abs_diff_scipy_tol_1e-10": diff_tight,
        "equal_to_1e-6": diff < 1e-6,
    }


def musique(dataset: Path, db: Path, queries: int) -> dict[str, Any]:
    import graphmem.retrieve.passages as passages
    from graphmem.bench.data import load_dataset
    from graphmem.bench.runner import corpus_documents
    from graphmem.extract.precomputed import PrecomputedExtractor
    from graphmem.memory import Memory

    ds: Any = load_dataset(dataset)
    extractor = PrecomputedExtractor.from_file(ds.triples_path)
    fresh = not db.exists()
    with Memory(f"sqlite:///{db}", extractor=extractor, namespace="musique") as mem:
        t0 = time.perf_counter()
        if fresh:
            mem.add_many(corpus_documents(ds.groups()))
        ingest_s = time.perf_counter() - t0
        walks: list[Walk] = []
        real = passages.pagerank_vector

        def record(graph: GraphView, seeds: dict[int, float], **kw: Any) -> np.ndarray:
            walks.append((graph, dict(seeds), kw["damping"], kw["tol"], kw["max_iter"]))
            return real(graph, seeds, **kw)

        passages.pagerank_vector = record  # type: ignore[assignment]
        try:
            for q in ds.questions[:queries]:
                mem.search(q.question, k=5)
        finally:
            passages.pagerank_vector = real  # type: ignore[assignment]
        out = compare(walks)
    out["ingest_s"] = round(ingest_s, 1) if fresh else "reused"
    return out


def synthetic(facts: int, queries: int) -> dict[str, Any]:
    from store_bench import seed_sets
    from synthetic_graph import Spec, load

    from graphmem.store import open_store

    settings = PassageSearchSettings()
    spec = Spec(facts=facts)
    with tempfile.TemporaryDirectory(prefix="ppr-engines-") as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'syn.db'}")
        load(store, spec)
        view = store.graph(spec.namespace)
        rng = np.random.default_rng(facts)
        walks: list[Walk] = []
        for seeds in seed_sets(spec, queries, rng):
            idx = {i: w for k, w in seeds.items() if (i := view.index_of(k)) is not None}
            total = sum(idx.values())
            norm = {i: w / total for i, w in idx.items()}
            walks.append((view, norm, settings.damping, settings.tol, settings.max_iter))
        out = compare(walks)
        store.close()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, default=ROOT.parent / "shared/bench/musique_train")
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "ppr_musique.db")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    steps: list[tuple[str, Callable[[], dict[str, Any]]]] = []
    if args.dataset.is_dir():
        steps.append(("musique_train", lambda: musique(args.dataset, args.db, args.queries)))
    for size in args.sizes:
        steps.append((f"synthetic_{size}", lambda size=size: synthetic(size, args.queries)))
    for name, step in steps:
        results[name] = step()
        print(name, json.dumps(results[name]), file=sys.stderr, flush=True)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
