"""Does client-side concurrency really overlap LLM requests?

A local OpenAI-compatible server (tests/support/fake_openai.py, in its own process so it does not share
the client's GIL) answers every chat request after a fixed 200 ms. The LLM extractor extracts N passages with concurrency 1 and then 8; the script prints
passages/s for both and their ratio (the target is at least 6x).

    .venv/bin/python benchmarks/llm_concurrency.py [--passages 48] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from graphmem.extract.llm import LLMExtractor
from graphmem.ids import passage_id
from graphmem.models import Passage

SERVER = Path(__file__).resolve().parents[1] / "tests" / "support" / "fake_openai.py"

ANSWER = json.dumps(
    {
        "named_entities": ["Bled", "Slovenia"],
        "triples": [["Bled", "located in", "Slovenia"]],
        "events": [],
    }
)


def run(url: str, passages: list[Passage], concurrency: int) -> tuple[float, int]:
    ex = LLMExtractor("bench", base_url=url, concurrency=concurrency, timeout=30)
    ex.extract(passages[:1])  # warm up: thread, client, connection
    start = time.perf_counter()
    results = ex.extract(passages)
    elapsed = time.perf_counter() - start
    ex.close()
    failed = sum(1 for r in results if r.error is not None)
    return len(passages) / elapsed, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=48)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    passages = [
        Passage(id=passage_id("bench", f"passage {i}"), text=f"Passage {i} about Bled.")
        for i in range(args.passages)
    ]
    server = subprocess.Popen(
        [sys.executable, str(SERVER), "--delay", str(args.latency), "--answer", ANSWER],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        rates = {}
        for concurrency in (1, 8):
            rate, failed = run(url, passages, concurrency)
            rates[concurrency] = rate
            print(
                f"concurrency {concurrency}: {rate:6.2f} passages/s "
                f"({args.passages} passages, {failed} failed, {args.latency * 1000:.0f} ms each)"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"ratio: {rates[8] / rates[1]:.2f}x (target >= 6x)")


if __name__ == "__main__":
    main()
