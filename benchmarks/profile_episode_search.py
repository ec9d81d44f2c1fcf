"""Where an episode search's time goes on one LongMemEval history (~500 turns), first query
against later ones (issue 20, item 5). Run on demand; nothing imports it.

    PYTHONPATH=. python benchmarks/profile_episode_search.py ../shared/bench/longmemeval_dev \\
        830ce83f --db /tmp/lme.db

Ingests the question's conversation into ``--db`` once (kept for later runs; or give the
``--namespace`` of a bench store, ``graphmem bench --store``, that holds it), then, in this
process, asks: the question as of its day (the first query on the namespace), the same again,
other questions at the same time, the question at other times, and without a time. Each search
prints its ``timings_ms``; the first and a later one are profiled (cProfile, graphmem functions
by cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from datetime import timedelta
from pathlib import Path

from graphmem.bench.conversation import load_conversation
from graphmem.bench.conversation_runner import turn_episode
from graphmem.bench.longmemeval import question_times
from graphmem.memory import Memory

OTHER_QUESTIONS = [
    "What did I say about my job?",
    "Which city did I mention visiting last?",
    "How many times did I talk about cooking?",
    "What was the name of the book I was reading?",
]
WATCH = (
    "vector_search",
    "_index",
    "load_index",
    "_projection",
    "load_projection",
    "graph_as_of",
    "personalized_pagerank",
    "_arigraph",
    "superseded",
    "get_episodes",
    "get_facts",
    "neighbors",
    "_seeds",
    "named_entities",
    "episode_hits",
    "_format",
    "edges_of",
    "facts_between",
    "embed",
    "retrieve_episodes",
    "_retrieve",
)


def profiled(mem: Memory, question: str, ns: str, **kw: object) -> tuple[float, str]:
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    mem.search(question, k=50, namespace=ns, include=["episodes"], **kw)  # type: ignore[arg-type]
    prof.disable()
    ms = (time.perf_counter() - t) * 1e3
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    rows = []
    for (path, _line, name), (_cc, nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if name in WATCH and ("graphmem" in path or name == "embed"):
            rows.append((ct * 1e3, nc, f"{Path(path).parent.name}/{Path(path).name}:{name}"))
    rows.sort(reverse=True)
    text = "\n".join(f"  {ct:9.1f} ms  x{nc:<4} {where}" for ct, nc, where in rows[:18])
    own = sorted(
        (
            (tt * 1e3, nc, f"{Path(path).name}:{name}")
            for (path, _line, name), (_cc, nc, tt, _ct, _callers) in stats.stats.items()
        ),  # type: ignore[attr-defined]
        reverse=True,
    )[:12]
    text += "\n  own time (tottime):\n" + "\n".join(
        f"  {tt:9.1f} ms  x{nc:<6} {where}" for tt, nc, where in own
    )
    return ms, text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", type=Path)
    ap.add_argument("question_id")
    ap.add_argument("--db", type=Path, default=Path("/tmp/graphmem-profile.db"))
    ap.add_argument("--namespace", help="a namespace of --db already holding the history")
    args = ap.parse_args()
    ds = load_conversation(args.folder)
    q = next(x for x in ds.questions if x.id == args.question_id)
    turns = ds.conversations()[q.conversation_id]
    when = question_times(ds)[q.id]
    ns = args.namespace or "profile." + q.conversation_id
    mem = Memory(f"sqlite:///{args.db}", extractor="nlp", namespace=ns)
    if mem.store.stats(ns).episodes == 0:
        items = [turn_episode(t, i) for i, t in enumerate(turns)]
        t0 = time.perf_counter()
        mem.add_episodes(items, progress=True)
        print(f"ingest: {len(items)} turns in {time.perf_counter() - t0:.1f} s")
        mem.close()
        mem = Memory(f"sqlite:///{args.db}", extractor="nlp", namespace=ns)
    print(mem.store.stats(ns))
    mem.embedder.embed(["warm the model up"], kind="query")  # model load is not a query

    def ask(label: str, question: str, **kw: object) -> None:
        t = time.perf_counter()
        res = mem.search(question, k=50, namespace=ns, include=["episodes"], **kw)  # type: ignore[arg-type]
        ms = (time.perf_counter() - t) * 1e3
        parts = ", ".join(f"{k} {v:.1f}" for k, v in res.timings_ms.items())
        print(f"{label:<44} {ms:8.1f} ms  ({parts})")

    ms, text = profiled(mem, q.question, ns, as_of=when)
    print(f"FIRST query on the namespace, as_of its day: {ms:.1f} ms\n{text}")
    ask("same question again, same as_of", q.question, as_of=when)
    for other in OTHER_QUESTIONS:
        ask(f"other question, same as_of: {other[:20]}", other, as_of=when)
    for days in (1, 2, 3):
        ask(
            f"same question, as_of {days} day(s) later",
            q.question,
            as_of=when + timedelta(days=days),
        )
    ask("same question, no as_of (1st)", q.question)
    ask("same question, no as_of (2nd)", q.question)
    ms, text = profiled(mem, OTHER_QUESTIONS[0], ns, as_of=when)
    print(f"LATER query (other question, as_of seen before): {ms:.1f} ms\n{text}")
    ms, text = profiled(mem, OTHER_QUESTIONS[1], ns, as_of=when + timedelta(days=9))
    print(f"LATER query at a NEW as_of: {ms:.1f} ms\n{text}")
    t = time.perf_counter()
    mem.store.vector_search(ns, "episode", mem.embedder.embed([q.question], kind="query"), 50)
    print(f"dense alone (embed + vector_search 50): {(time.perf_counter() - t) * 1e3:.1f} ms")
    mem.close()


if __name__ == "__main__":
    main()
