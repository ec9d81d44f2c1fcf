"""Load benchmark of the GraphQL API (issue 6), bounded in time and count, loopback only.

1. Builds (once, cached in --work) a store of musique_train from its triples.jsonl.
2. Searches the musique_train questions through ``Memory`` in process: 1 caller, then --clients
   threads, --seconds each.
3. Starts one ``graphmem serve`` process on 127.0.0.1 and runs the same searches
   through ``graphmem.AsyncClient``: 1 client, then --clients concurrent clients. Reports p50/p99
   latency, requests/s, errors, and the API's overhead as ratios to the in-process figures.
4. Ingests --ingest passages through the API (namespace ``ingest-bench``) while searchers keep
   searching; checks the job's progress, that searches kept answering, and that the store ends up
   equal (counts, graph nodes, graph edges) to an in-process ingest of the same passages.

    python benchmarks/api_load.py --json artifacts/api-load.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
INGEST_NS = "ingest-bench"
MAX_REQUESTS = 200_000  # a bound on every timed phase, whatever its duration


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def summary(latencies_ms: list[float], errors: int, seconds: float) -> dict[str, Any]:
    return {
        "requests": len(latencies_ms),
        "errors": errors,
        "seconds": round(seconds, 2),
        "rps": round(len(latencies_ms) / seconds, 2) if seconds else 0.0,
        "p50_ms": round(percentile(latencies_ms, 50), 2),
        "p99_ms": round(percentile(latencies_ms, 99), 2),
        "mean_ms": round(statistics.fmean(latencies_ms), 2) if latencies_ms else float("nan"),
    }


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


# ------------------------------------------------------------------------------- the store


def build_store(data: Path, store: Path) -> float:
    """musique_train from its precomputed triples (skipped when already built)."""
    done = store.with_suffix(".built")
    if done.exists():
        return 0.0
    from graphmem.extract.precomputed import PrecomputedExtractor
    from graphmem.ingest.sources import read_documents
    from graphmem.memory import Memory

    started = time.perf_counter()
    extractor = PrecomputedExtractor.from_file(data / "triples.jsonl")
    with Memory(str(store), extractor=extractor) as mem:
        mem.add_many(read_documents(data), progress=True)
    done.write_text("ok\n")
    return time.perf_counter() - started


# ------------------------------------------------------------------------------- in process


def run_threads(
    search: Callable[[str], Any], questions: list[str], workers: int, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    counter = iter(range(MAX_REQUESTS))

    def worker(offset: int) -> None:
        nonlocal errors
        i = offset
        while time.monotonic() < deadline and next(counter, None) is not None:
            q = questions[i % len(questions)]
            i += 1
            t0 = time.perf_counter()
            try:
                search(q)
            except Exception:
                with lock:
                    errors += 1
                continue
            with lock:
                latencies.append((time.perf_counter() - t0) * 1e3)

    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(worker, range(0, workers * 7, 7)))
    return summary(latencies, errors, time.monotonic() - started)


# ------------------------------------------------------------------------------- over the API


async def run_clients(
    url: str, questions: list[str], clients: int, seconds: float
) -> dict[str, Any]:
    from graphmem.client import AsyncClient

    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    counter = iter(range(MAX_REQUESTS))

    async def client(offset: int) -> None:
        async with AsyncClient(url, timeout=120) as c:
            i = offset
            while time.monotonic() < deadline and next(counter, None) is not None:
                q = questions[i % len(questions)]
                i += 1
                t0 = time.perf_counter()
                try:
                    await c.search(q, k=5)
                except Exception as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                latencies.append((time.perf_counter() - t0) * 1e3)

    started = time.monotonic()
    await asyncio.gather(*(client(i * 7) for i in range(clients)))
    out = summary(latencies, len(errors), time.monotonic() - started)
    out["first_errors"] = errors[:5]
    return out


async def ingest_while_searching(
    url: str, docs: list[dict[str, Any]], questions: list[str], searchers: int, batch_size: int
) -> dict[str, Any]:
    from graphmem.client import AsyncClient

    latencies: list[float] = []
    errors: list[str] = []
    progress: list[tuple[float, int]] = []
    finished = asyncio.Event()
    started = time.monotonic()

    async with AsyncClient(url, timeout=600) as admin:
        job_id = await admin.add_many(docs, namespace=INGEST_NS, batch_size=batch_size, wait=False)
        assert isinstance(job_id, str)

        async def watch() -> dict[str, Any]:
            while True:
                info = await admin.job(job_id)
                progress.append((round(time.monotonic() - started, 2), info.done))
                if info.status not in ("QUEUED", "RUNNING"):
                    finished.set()
                    return info.model_dump(mode="json")
                await asyncio.sleep(1.0)

        async def search(offset: int) -> None:
            async with AsyncClient(url, timeout=120) as c:
                i = offset
                while not finished.is_set() and len(latencies) < MAX_REQUESTS:
                    t0 = time.perf_counter()
                    try:
                        await c.search(questions[i % len(questions)], k=5)
                    except Exception as exc:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    else:
                        latencies.append((time.perf_counter() - t0) * 1e3)
                    i += 1

        job, *_ = await asyncio.gather(watch(), *(search(i * 13) for i in range(searchers)))
    seconds = time.monotonic() - started
    dones = [d for _, d in progress]
    return {
        "job": {k: job[k] for k in ("status", "total", "done", "error")},
        "report": job.get("report"),
        "ingest_seconds": round(seconds, 1),
        "progress_samples": len(progress),
        "progress_monotonic": dones == sorted(dones),
        "progress_distinct": len(set(dones)),
        "searches_during_ingest": summary(latencies, len(errors), seconds),
        "first_errors": errors[:5],
    }


def snapshot(store: Path, namespace: str) -> dict[str, Any]:
    """Counts, graph nodes and graph edges of a namespace (what "equal stores" means here)."""
    from graphmem.memory import Memory

    with Memory(str(store), extractor="none") as mem:
        stats = mem.stats(namespace).model_dump()
        view = mem.store.graph(namespace)
        ids = [view.node_id(i) for i in range(view.num_nodes)]
        m = view.matrix().tocoo()
        edges = sorted(
            (min(ids[r], ids[c]), max(ids[r], ids[c]), round(float(w), 6))
            for r, c, w in zip(m.row, m.col, m.data, strict=True)
            if r < c
        )
    return {"stats": stats, "nodes": sorted(ids), "edges": edges}


def copy_store(src: Path, dst: Path) -> None:
    """A consistent copy of a SQLite store (the backup API), caches included."""
    import sqlite3

    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    b.close()
    a.close()


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    nodes_a, nodes_b = set(a["nodes"]), set(b["nodes"])
    edges_a, edges_b = set(map(tuple, a["edges"])), set(map(tuple, b["edges"]))
    return {
        "equal": a == b,
        "stats_equal": a["stats"] == b["stats"],
        "nodes_only_api": len(nodes_a - nodes_b),
        "nodes_only_in_process": len(nodes_b - nodes_a),
        "edges_only_api": len(edges_a - edges_b),
        "edges_only_in_process": len(edges_b - edges_a),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(store: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cmd = [
        sys.executable,
        "-m",
        "graphmem.cli",
        "serve",
        "--store",
        str(store),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--extractor",
        "nlp",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, stderr=log.open("wb"), env=env)
    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}); see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("the server did not become ready in 300 s")
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "musique_train")
    p.add_argument("--work", type=Path, default=ROOT / "artifacts" / "api-load")
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--sequential-seconds", type=float, default=10.0)
    p.add_argument("--ingest", type=int, default=1000)
    p.add_argument("--ingest-searchers", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.work.mkdir(parents=True, exist_ok=True)
    store = args.work / "musique.db"
    questions = [q["question"] for q in read_jsonl(args.data / "questions.jsonl")]
    corpus = read_jsonl(args.data / "corpus.jsonl")
    docs = [
        {"text": c["text"], "title": c["title"], "source": c["id"]} for c in corpus[: args.ingest]
    ]
    result: dict[str, Any] = {
        "dataset": args.data.name,
        "clients": args.clients,
        "seconds": args.seconds,
    }
    result["build_store_s"] = round(build_store(args.data, store), 1)

    from graphmem.memory import Memory

    print("in process ...", flush=True)
    with Memory(str(store), extractor="none") as mem:
        for q in questions:  # warm: model loaded, graph projected
            mem.search(q, k=5)
        search = lambda q: mem.search(q, k=5)  # noqa: E731
        result["in_process_1"] = run_threads(search, questions, 1, args.sequential_seconds)
        result["in_process_n"] = run_threads(search, questions, args.clients, args.seconds)

    # The reference ingest starts from the same store (same caches) as the served one.
    reference = args.work / "reference.db"
    copy_store(store, reference)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    print(f"server on {url} ...", flush=True)
    proc = start_server(store, port, args.work / "server.log")
    try:
        asyncio.run(run_clients(url, questions, 4, 5.0))  # warm the server the same way
        result["api_1"] = asyncio.run(run_clients(url, questions, 1, args.sequential_seconds))
        result["api_n"] = asyncio.run(run_clients(url, questions, args.clients, args.seconds))
        print(f"ingest of {len(docs)} passages while searching ...", flush=True)
        result["ingest"] = asyncio.run(
            ingest_while_searching(url, docs, questions, args.ingest_searchers, args.batch_size)
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        result["server_exit"] = proc.wait(timeout=900)

    print("in-process reference ingest ...", flush=True)
    started = time.perf_counter()
    with Memory(str(reference), extractor="nlp") as mem:
        mem.add_many(docs, namespace=INGEST_NS, batch_size=args.batch_size)
    result["ingest"]["in_process_ingest_seconds"] = round(time.perf_counter() - started, 1)
    served, alone = snapshot(store, INGEST_NS), snapshot(reference, INGEST_NS)
    result["ingest"]["comparison"] = compare(served, alone)
    result["ingest"]["store_equal"] = served == alone
    result["ingest"]["stats"] = served["stats"]
    # The ingested namespace is deleted again so the next run measures the same store.
    with Memory(str(store), extractor="none") as mem:
        mem.delete_namespace(INGEST_NS)

    one, many = result["in_process_1"], result["in_process_n"]
    result["overhead"] = {
        "p50_ratio_1": round(result["api_1"]["p50_ms"] / one["p50_ms"], 2),
        "p50_ratio_n": round(result["api_n"]["p50_ms"] / many["p50_ms"], 2),
        "rps_ratio_n": round(result["api_n"]["rps"] / many["rps"], 3),
    }
    print(f"{'':14}{'requests':>9}{'errors':>7}{'rps':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for name in ("in_process_1", "api_1", "in_process_n", "api_n"):
        r = result[name]
        print(
            f"{name:14}{r['requests']:>9}{r['errors']:>7}{r['rps']:>9}{r['p50_ms']:>9}{r['p99_ms']:>9}"
        )
    ing = result["ingest"]
    s = ing["searches_during_ingest"]
    print(
        f"ingest: {ing['job']['status']} {ing['job']['done']}/{ing['job']['total']} in "
        f"{ing['ingest_seconds']} s, {ing['progress_distinct']} progress steps; searches meanwhile: "
        f"{s['requests']} ({s['errors']} errors), p50 {s['p50_ms']} ms; store equal: {ing['store_equal']}"
    )
    print("overhead:", result["overhead"])
    if args.json:
        from graphmem.bench.runner import write_json

        write_json(result, args.json)
    ok = (
        result["api_n"]["errors"] == 0
        and result["api_1"]["errors"] == 0
        and ing["job"]["status"] == "SUCCEEDED"
        and s["errors"] == 0
        and ing["store_equal"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
