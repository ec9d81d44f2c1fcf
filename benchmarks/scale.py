"""Scale benchmark (issue 23): ingest, memory, disk and search as the corpus grows.

    PYTHONPATH=. python benchmarks/scale.py --sizes 2000 10000 --mode triples --out /tmp/scale
    PYTHONPATH=. python benchmarks/scale.py --sizes 2000 10000 --mode nlp --out /tmp/scale
    PYTHONPATH=. python benchmarks/scale.py --plot /tmp/scale

**Corpus.** Real text first: musique_train's 1,890 passages, then (``--mode nlp`` only)
longmemeval_dev's turns as passages (~30k). Beyond the real text, copies of musique's passages in
which every capitalised word gets a copy suffix (``Paris`` -> ``Parisqb``), in the text and in its
triples alike, so each copy adds new entities and facts instead of repeating the old ones (a
repeated text would hit the extraction and embedding caches and flatter the figures).

**Modes.** ``triples``: musique's precomputed triples (copies carry renamed triples); no
extraction cost, the issue's "≤ 2× embedding" case. ``nlp``: the offline spaCy extractor, the
"≤ 3×" case.

**Per size**, in a new process (so peak RSS is that size's alone):

- pure embedding: the passages' texts through the same embedder, batches of 256, nothing stored;
- ingest: ``Memory.add_many`` into a new SQLite store (batch 64), then ``Memory.warm``;
- peak RSS (``ru_maxrss``) and the store's size on disk (file + WAL);
- search: ``--questions`` musique questions (their gold passages are in every size), each
  asked once untimed, then timed by turns: ``Memory.search(k=5)`` and a dense search (question
  embedding + the store's vector search, k=5), so both see the same machine load;
- a new process's first answer: ``python -c`` that imports graphmem, opens the store and answers
  one question, timed from the process's start.

Results: one JSON per size in ``--out``; ``--plot`` draws ``scale.png`` there (ratios, RSS, disk,
search latency against size). Nothing imports this module.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH = Path(os.environ.get("GRAPHMEM_BENCH_DIR", ROOT.parent / "shared" / "bench"))
_CAPITAL = re.compile(r"\b([A-Z][a-z]+)\b")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _suffix(copy: int) -> str:
    """A pronounceable-enough suffix per copy: 1 -> 'qb', 2 -> 'qc', ..."""
    out = ""
    n = copy
    while n:
        n, r = divmod(n, 26)
        out = _LETTERS[r] + out
    return "q" + out


def _rename(text: str, copy: int) -> str:
    if copy == 0:
        return text
    sfx = _suffix(copy)
    return _CAPITAL.sub(lambda m: m.group(1) + sfx, text)


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def corpus(size: int, mode: str) -> tuple[list[dict[str, str]], dict[str, dict[str, Any]]]:
    """``size`` documents (id, text, title) and, in ``triples`` mode, their triples by id."""
    base = list(_jsonl(BENCH / "musique_train" / "corpus.jsonl"))
    triples = {r["passage_id"]: r for r in _jsonl(BENCH / "musique_train" / "triples.jsonl")}
    docs: list[dict[str, str]] = []
    records: dict[str, dict[str, Any]] = {}
    for p in base[:size]:
        docs.append({"id": p["id"], "title": p.get("title", ""), "text": p["text"]})
        if p["id"] in triples:
            records[p["id"]] = triples[p["id"]]
    if mode == "nlp" and len(docs) < size:
        for t in _jsonl(BENCH / "longmemeval_dev" / "turns.jsonl"):
            if len(docs) >= size:
                break
            text = str(t.get("text") or "").strip()
            if text:
                docs.append({"id": f"lme:{t['dia_id']}", "title": "", "text": text})
    copy = 0
    while len(docs) < size:
        copy += 1
        for p in base:
            if len(docs) >= size:
                break
            pid = f"{p['id']}~{copy}"
            docs.append(
                {
                    "id": pid,
                    "title": _rename(p.get("title", ""), copy),
                    "text": _rename(p["text"], copy),
                }
            )
            rec = triples.get(p["id"])
            if rec is not None:
                records[pid] = {
                    "entities": [_rename(e, copy) for e in rec.get("entities", [])],
                    "triples": [[_rename(x, copy) for x in t] for t in rec.get("triples", [])],
                }
    return docs, records


def _questions(n: int) -> list[str]:
    return [q["question"] for q in _jsonl(BENCH / "musique_train" / "questions.jsonl")][:n]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _run_size(size: int, mode: str, out: Path, questions: int) -> dict[str, Any]:
    from graphmem import Memory
    from graphmem.bench.baselines import dense_search
    from graphmem.extract.precomputed import PrecomputedExtractor

    docs, records = corpus(size, mode)
    db = out / f"{mode}-{size}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    extractor: Any = PrecomputedExtractor.from_records(records) if mode == "triples" else "nlp"
    mem = Memory(store=f"sqlite:///{db}", extractor=extractor)
    texts = [d["text"] for d in docs]
    mem.embedder.embed(["warm the model up"], kind="passage")

    t0 = time.perf_counter()
    for start in range(0, len(texts), 256):
        mem.embedder.embed(texts[start : start + 256], kind="passage")
    embed_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    report = mem.add_many(
        ({"text": d["text"], "source": d["id"], "title": d["title"] or None} for d in docs),
        namespace="scale",
        batch_size=64,
        progress=True,
    )
    mem.warm("scale")
    ingest_s = time.perf_counter() - t0

    qs = _questions(questions)
    for q in qs:  # untimed: the first pass pays caches neither side keeps across runs
        mem.search(q, k=5, namespace="scale")
        dense_search(mem.store, mem.embedder, "scale", [q], 5)
    g_ms: list[float] = []
    d_ms: list[float] = []
    for q in qs:
        t = time.perf_counter()
        mem.search(q, k=5, namespace="scale")
        g_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        dense_search(mem.store, mem.embedder, "scale", [q], 5)
        d_ms.append((time.perf_counter() - t) * 1000)
    stats = mem.stats("scale")
    mem.close()
    disk = sum(Path(str(db) + s).stat().st_size for s in ("", "-wal") if Path(str(db) + s).exists())
    first = _first_answer(db, qs[0])
    result = {
        "mode": mode,
        "size": size,
        "passages": len(docs),
        "passages_added": report.passages_added,
        "entities": stats.entities,
        "facts": stats.facts,
        "embed_s": round(embed_s, 2),
        "ingest_s": round(ingest_s, 2),
        "ingest_ratio": round(ingest_s / embed_s, 2),
        "passages_per_s": round(len(docs) / ingest_s, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "disk_mb": round(disk / 2**20, 1),
        "search_p50_ms": round(statistics.median(g_ms), 2),
        "search_p95_ms": round(_pct(g_ms, 0.95), 2),
        "dense_p50_ms": round(statistics.median(d_ms), 2),
        "dense_p95_ms": round(_pct(d_ms, 0.95), 2),
        "search_ratio_p50": round(statistics.median(g_ms) / statistics.median(d_ms), 2),
        "first_answer_s": first,
        "questions": len(qs),
    }
    (out / f"{mode}-{size}.json").write_text(json.dumps(result, indent=2))
    return result


def _first_answer(db: Path, question: str) -> float:
    """Seconds from a new process's start to its first answer on this store."""
    code = (
        "import time; t=time.perf_counter()\n"
        "from graphmem import Memory\n"
        f"m = Memory(store={f'sqlite:///{db}'!r})\n"
        f"m.search({question!r}, k=5, namespace='scale')\n"
        "print(time.perf_counter()-t)\n"
    )
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    t = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - t
    inner = float(done.stdout.strip().splitlines()[-1])
    # wall includes interpreter start; inner starts after it: report wall, the user's wait
    return round(max(wall, inner), 3)


def plot(out: Path) -> Path:
    from matplotlib.figure import Figure

    rows = [json.loads(p.read_text()) for p in sorted(out.glob("*-*.json"))]
    fig = Figure(figsize=(11, 7))
    panels = [
        ("ingest_ratio", "ingest / pure embedding (×)"),
        ("search_ratio_p50", "search p50 / dense p50 (×)"),
        ("peak_rss_mb", "peak RSS (MB)"),
        ("disk_mb", "store on disk (MB)"),
    ]
    for i, (key, label) in enumerate(panels):
        ax = fig.add_subplot(2, 2, i + 1)
        for mode in sorted({r["mode"] for r in rows}):
            pts = sorted((r["size"], r[key]) for r in rows if r["mode"] == mode)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=mode)
        ax.set_xscale("log")
        ax.set_ylim(bottom=0)  # from zero: two close ratios must not look like a cliff
        ax.set_xlabel("passages")
        ax.set_title(label)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path = out / "scale.png"
    fig.savefig(path, dpi=110)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[2000, 10000, 30000, 100000])
    ap.add_argument("--mode", choices=("triples", "nlp"), default="triples")
    ap.add_argument("--out", type=Path, default=Path("/tmp/graphmem-scale"))
    ap.add_argument("--questions", type=int, default=50)
    ap.add_argument("--plot", type=Path, help="only draw the plot of the results in this folder")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.plot:
        print(plot(args.plot))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(_run_size(args.sizes[0], args.mode, args.out, args.questions)))
        return 0
    for size in args.sizes:
        cmd = [sys.executable, __file__, "--one", "--sizes", str(size), "--mode", args.mode]
        cmd += ["--out", str(args.out), "--questions", str(args.questions)]
        subprocess.run(cmd, check=True)
        print((args.out / f"{args.mode}-{size}.json").read_text())
    print(plot(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
