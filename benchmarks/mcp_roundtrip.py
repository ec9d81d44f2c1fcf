"""``search_memory`` over MCP stdio vs ``Memory.search`` in process, and server start to first answer.

Ingests the demo corpus into a temporary SQLite file, then asks its questions (same k) ``--rounds``
times: first in process, then through ``graphmem mcp`` started as a subprocess and driven by the
MCP SDK's client over stdio. Start to first answer is timed from spawning the server to the first
``search_memory`` result, once cold (first start) and once warm (page cache and ONNX export warm).
Bounded: 9 questions x rounds; loopback only (stdio has no network at all).

    python benchmarks/mcp_roundtrip.py --rounds 20 --json mcp_roundtrip.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"
NS = "bench"


def questions() -> list[str]:
    lines = (DATA / "demo_questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def ms_p50(values: list[float]) -> float:
    return round(statistics.median(values) * 1e3, 2)


def in_process(store: str, qs: list[str], k: int, rounds: int) -> list[float]:
    from graphmem.ingest.sources import read_documents
    from graphmem.memory import Memory

    with Memory(store, namespace=NS) as mem:
        mem.add_many(read_documents(DATA / "demo_corpus.jsonl"))
        for q in qs:  # warm-up: the model and the store's caches
            mem.search(q, k=k)
        times = []
        for _ in range(rounds):
            for q in qs:
                t0 = time.perf_counter()
                mem.search(q, k=k)
                times.append(time.perf_counter() - t0)
    return times


async def over_stdio(store: str, qs: list[str], k: int, rounds: int) -> dict[str, Any]:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    env = {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "graphmem.cli", "mcp", "--store", store, "--namespace", NS],
        env=env,
        cwd=str(ROOT),
    )
    first: list[float] = []
    times: list[float] = []
    for start in range(2):  # cold, then warm
        t0 = time.perf_counter()
        async with Client(params, read_timeout_seconds=300) as client:
            r = await client.call_tool("search_memory", {"query": qs[0], "k": k})
            first.append(time.perf_counter() - t0)
            assert not r.is_error, r.content
            if start == 0:
                continue
            for q in qs:  # warm-up, as in process
                await client.call_tool("search_memory", {"query": q, "k": k})
            for _ in range(rounds):
                for q in qs:
                    t1 = time.perf_counter()
                    r = await client.call_tool("search_memory", {"query": q, "k": k})
                    times.append(time.perf_counter() - t1)
                    assert not r.is_error, r.content
    return {"times": times, "start_cold_s": round(first[0], 2), "start_warm_s": round(first[1], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    qs = questions()
    with tempfile.TemporaryDirectory(prefix="graphmem-mcp-bench-") as tmp:
        store = f"sqlite:///{Path(tmp) / 'bench.db'}"
        local = in_process(store, qs, args.k, args.rounds)
        remote = anyio.run(over_stdio, store, qs, args.k, args.rounds)
    p50_local, p50_mcp = ms_p50(local), ms_p50(remote["times"])
    out = {
        "questions": len(qs),
        "rounds": args.rounds,
        "k": args.k,
        "in_process_p50_ms": p50_local,
        "mcp_stdio_p50_ms": p50_mcp,
        "ratio": round(p50_mcp / p50_local, 2),
        "mcp_stdio_p95_ms": round(statistics.quantiles(remote["times"], n=20)[-1] * 1e3, 2),
        "start_to_first_answer_cold_s": remote["start_cold_s"],
        "start_to_first_answer_warm_s": remote["start_warm_s"],
    }
    print(json.dumps(out, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
