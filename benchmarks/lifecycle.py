"""The lifecycle benchmark: does the evidence of what holds now (or held then) rank first?

Reads a folder written by ``benchmarks/lifecycle_gen.py`` (the conversation layout plus
``stale_dia_ids`` and ``as_of`` on questions). Each person's turns go into their own namespace;
every question is asked as of its time (``as_of`` for past values; nothing later is visible to any
system). Systems, same run and same MiniLM vectors: dense (cosine over turns), BM25 over turns,
graphmem with slot matching off (only the fixed functional classes end facts) and graphmem.

Metrics: current@1 and current@5 (a turn stating the current value at rank 1 / in the top 5),
stale-first (a turn of an older value at rank 1, over current and past questions), past@1 (the
value at the date, at rank 1, as of that date), changed R@5 (share of an attribute's turns in the
top 5 for "what changed").

Run: ``python benchmarks/lifecycle.py FOLDER [--people N] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from graphmem import Memory
from graphmem.bench.baselines import BM25Index
from graphmem.embed.local import LocalEmbedder
from graphmem.ingest.temporal import TemporalSettings
from graphmem.models import EpisodeIn
from graphmem.timeparse import parse_iso

Ranker = Callable[[dict[str, Any]], list[str]]


def load(folder: Path) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    turns: dict[str, list[dict[str, Any]]] = {}
    for line in (folder / "turns.jsonl").read_text(encoding="utf-8").splitlines():
        if line:
            t = json.loads(line)
            turns.setdefault(t["conversation_id"], []).append(t)
    qs = [json.loads(x) for x in (folder / "questions.jsonl").read_text("utf-8").splitlines() if x]
    return turns, qs


def episode(t: dict[str, Any]) -> EpisodeIn:
    return EpisodeIn(
        text=t["text"],
        time=t["session_time"],
        speaker=t["speaker"],
        session=t["session"],
        source=t["conversation_id"],
        metadata={"dia_id": t["dia_id"]},
    )


def graphmem_ranker(
    db: Path, embedder: LocalEmbedder, turns: dict[str, list[dict[str, Any]]], slots: bool
) -> tuple[Ranker, Memory]:
    mem = Memory(
        f"sqlite:///{db}",
        embedder=embedder,
        extractor="nlp",
        temporal=TemporalSettings(slots=slots),
    )
    for conv, rows in turns.items():
        mem.add_episodes([episode(t) for t in rows], namespace=conv)

    def rank(q: dict[str, Any]) -> list[str]:
        when = parse_iso(q["as_of"]) or parse_iso(q["question_time"])
        res = mem.search(
            q["question"], k=10, include=["episodes"], as_of=when, namespace=q["conversation_id"]
        )
        return [str(h.episode.metadata.get("dia_id")) for h in res.episodes]

    return rank, mem


def baseline_rankers(
    embedder: LocalEmbedder, turns: dict[str, list[dict[str, Any]]]
) -> dict[str, Ranker]:
    """Dense and BM25 over each person's turns (as "Speaker: text", as episodes are stored)."""
    texts = {c: [f"{t['speaker']}: {t['text']}" for t in rows] for c, rows in turns.items()}
    vecs = {c: embedder.embed(ts) for c, ts in texts.items()}
    bm25 = {c: BM25Index(ts) for c, ts in texts.items()}

    def visible(q: dict[str, Any]) -> np.ndarray:
        when = parse_iso(q["as_of"]) or parse_iso(q["question_time"])
        rows = turns[q["conversation_id"]]
        return np.array([parse_iso(t["session_time"]) <= when for t in rows])  # type: ignore[operator]

    def dense(q: dict[str, Any]) -> list[str]:
        c = q["conversation_id"]
        sims = vecs[c] @ embedder.embed([q["question"]], kind="query")[0]
        sims = np.where(visible(q), sims, -np.inf)
        return [turns[c][i]["dia_id"] for i in np.argsort(-sims, kind="stable")[:10]]

    def lexical(q: dict[str, Any]) -> list[str]:
        c = q["conversation_id"]
        ok = visible(q)
        hits = [i for i, _ in bm25[c].top_k(q["question"], len(turns[c])) if ok[i]]
        return [turns[c][i]["dia_id"] for i in hits[:10]]

    return {"dense": dense, "bm25": lexical}


def score(ranked: dict[str, list[str]], qs: list[dict[str, Any]]) -> dict[str, float]:
    cur = [q for q in qs if q["category_name"] == "current"]
    past = [q for q in qs if q["category_name"] == "past"]
    changed = [q for q in qs if q["category_name"] == "changed"]

    def at(q: dict[str, Any], n: int) -> bool:
        return bool(set(ranked[q["id"]][:n]) & set(q["evidence_dia_ids"]))

    def stale_first(q: dict[str, Any]) -> bool:
        top = ranked[q["id"]][:1]
        return bool(top) and top[0] in set(q["stale_dia_ids"])

    def pct(xs: list[bool]) -> float:
        return round(100 * sum(xs) / len(xs), 1) if xs else float("nan")

    with_stale = [q for q in cur + past if q["stale_dia_ids"]]
    return {
        "current@1": pct([at(q, 1) for q in cur]),
        "current@5": pct([at(q, 5) for q in cur]),
        "stale_first": pct([stale_first(q) for q in with_stale]),
        "stale_first_current": pct([stale_first(q) for q in cur]),
        "past@1": pct([at(q, 1) for q in past]),
        "past@5": pct([at(q, 5) for q in past]),
        "changed_R@5": round(
            100
            * float(
                np.mean(
                    [
                        len(set(ranked[q["id"]][:5]) & set(q["evidence_dia_ids"]))
                        / len(q["evidence_dia_ids"])
                        for q in changed
                    ]
                )
            ),
            1,
        )
        if changed
        else float("nan"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--people", type=int, default=0, help="only the first N people (0: all)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--per-question", action="store_true")
    ap.add_argument("--systems", default="dense,bm25,graphmem-noslots,graphmem")
    ap.add_argument("--keep", type=Path, default=None, help="keep the stores in this folder")
    a = ap.parse_args()
    turns, qs = load(a.folder)
    if a.people:
        keep = list(turns)[: a.people]
        turns = {c: turns[c] for c in keep}
        qs = [q for q in qs if q["conversation_id"] in turns]
    embedder = LocalEmbedder()
    systems = a.systems.split(",")
    rankers = {k: v for k, v in baseline_rankers(embedder, turns).items() if k in systems}
    table: dict[str, dict[str, float]] = {}
    per_q: dict[str, dict[str, list[str]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        tmp = a.keep or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        mems = []
        for name, slots in (("graphmem-noslots", False), ("graphmem", True)):
            if name in systems:
                t0 = time.perf_counter()
                rankers[name], mem = graphmem_ranker(
                    Path(tmp) / f"{name}.db", embedder, turns, slots
                )
                mems.append(mem)
                print(f"ingested {name} in {time.perf_counter() - t0:.1f} s")
        for name, rank in rankers.items():
            ranked = {q["id"]: rank(q) for q in qs}
            per_q[name] = ranked
            table[name] = score(ranked, qs)
        for mem in mems:
            mem.close()
    print(
        f"{a.folder}: {len(turns)} people, {sum(map(len, turns.values()))} turns, {len(qs)} questions"
    )
    cols = list(next(iter(table.values())))
    print("system".ljust(18) + "".join(c.rjust(20) for c in cols))
    for name, row in table.items():
        print(name.ljust(18) + "".join(f"{row[c]:20.1f}" for c in cols))
    if a.per_question:
        for q in qs:
            marks = {n: per_q[n][q["id"]][:3] for n in per_q}
            print(q["id"], q["evidence_dia_ids"], q["stale_dia_ids"], marks)
    if a.json:
        a.json.write_text(json.dumps({"table": table, "ranked": per_q}, indent=1), "utf-8")


if __name__ == "__main__":
    main()
