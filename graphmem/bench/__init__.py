"""The benchmark harness behind ``graphmem bench DIR``.

- :mod:`graphmem.bench.data`: load and validate a dataset folder (multihop or conversation layout)
- :mod:`graphmem.bench.metrics`: Recall@k, all-gold-found@k, per-category evidence recall
- :mod:`graphmem.bench.baselines`: dense (same store, same embeddings) and BM25 (bm25s)
- :mod:`graphmem.bench.runner`: :func:`run_bench`, the whole run, returning the JSON dict
- :mod:`graphmem.bench.report`: the rich table
- :mod:`graphmem.bench.conversation_runner`: the conversation (LoCoMo-layout) run
- :mod:`graphmem.bench.common`: what the runs and the table share (no module imports a runner back)

Questions whose gold ids are not in the data are skipped with one warning and listed in the JSON's
``skipped_questions``; ``strict=True`` (``graphmem bench --strict``) refuses such a folder.

>>> from graphmem.bench import run_bench
>>> run_bench("../shared/bench/musique_train", json_path="out.json")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__all__ = ["copy_without_triples", "load_dataset", "run_bench", "run_bench_detailed"]


def __getattr__(name: str) -> Any:
    # lazy: importing the package must stay cheap (the CLI imports it for --help)
    if name in {"run_bench", "run_bench_detailed"}:
        from graphmem.bench import runner

        return getattr(runner, name)
    if name in {"load_dataset", "copy_without_triples"}:
        from graphmem.bench import data

        return getattr(data, name)
    raise AttributeError(f"module 'graphmem.bench' has no attribute {name!r}")
