"""LongMemEval knowledge-update questions: does the newest evidence turn rank above the superseded one?

For each question of category 6 (knowledge-update) in a ``graphmem bench --per-question`` file,
the evidence turns of the latest answer session are the *newest*, those of earlier answer
sessions the *superseded*; a question counts when the best-ranked newest turn is above every
superseded one (a turn not ranked counts as below all). Prints the share for every system.

Run: ``python benchmarks/knowledge_update.py PER_QUESTION.jsonl DATASET_FOLDER``.

A whole history is ~500 turns; ``--cut OUT --others N`` writes, instead, a conversation folder
with the knowledge-update questions only, each history cut to its answer sessions plus ``N``
other sessions drawn with a fixed seed (the distractors), for ``graphmem bench OUT
--per-question``:

    python benchmarks/knowledge_update.py --cut /tmp/ku --others 6 ../shared/bench/longmemeval_dev
    graphmem bench /tmp/ku --per-question /tmp/ku.jsonl --store sqlite:////tmp/ku.db
    python benchmarks/knowledge_update.py /tmp/ku.jsonl /tmp/ku
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any


def session_times(folder: Path) -> dict[tuple[str, str], str]:
    """(conversation, dia_id) -> the time of its session, as written (sortable per dataset)."""
    out: dict[tuple[str, str], str] = {}
    for line in (folder / "turns.jsonl").read_text(encoding="utf-8").split("\n"):
        if line:
            t = json.loads(line)
            out[(t["conversation_id"], t["dia_id"])] = t["session_time"]
    return out


def newest_first(row: dict[str, Any], system: str, times: dict[tuple[str, str], str]) -> bool:
    conv = row.get("conversation_id", row["id"])
    gold = row["gold"]
    when = {g: times[(conv, g)] for g in gold if (conv, g) in times}
    latest = max(when.values())
    newest = {g for g, t in when.items() if t == latest}
    older = {g for g in when if g not in newest}
    ranked = [r[0] if isinstance(r, list) else r for r in row[system]["ranks"]]
    pos = {d: i for i, d in reversed(list(enumerate(ranked)))}
    inf = len(ranked) + 1
    best_new = min((pos.get(g, inf) for g in newest), default=inf)
    best_old = min((pos.get(g, inf) for g in older), default=inf)
    return best_new < best_old


def cut(folder: Path, out: Path, others: int, seed: int = 0) -> None:
    """Write the knowledge-update questions of ``folder`` with histories cut (module docstring)."""
    lines = (folder / "questions.jsonl").read_text("utf-8").split("\n")
    questions = [json.loads(x) for x in lines if x]
    ku = [q for q in questions if q.get("category") == 6 and not q.get("abstention")]
    turns: dict[str, list[dict[str, Any]]] = {}
    for line in (folder / "turns.jsonl").read_text("utf-8").split("\n"):
        if line:
            t = json.loads(line)
            turns.setdefault(t["conversation_id"], []).append(t)
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    kept: list[dict[str, Any]] = []
    for q in ku:
        history = turns.get(q["conversation_id"], [])
        answer = set(q["answer_session_ids"])
        rest = sorted({t["session_id"] for t in history} - answer)
        chosen = answer | set(rng.sample(rest, min(others, len(rest))))
        kept += [t for t in history if t["session_id"] in chosen]
    (out / "questions.jsonl").write_text(
        "".join(json.dumps(q) + "\n" for q in ku), encoding="utf-8"
    )
    (out / "turns.jsonl").write_text("".join(json.dumps(t) + "\n" for t in kept), "utf-8")
    print(f"{len(ku)} questions, {len(kept)} turns -> {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument(
        "per_question", type=Path, help="a --per-question file (or, with --cut, the dataset)"
    )
    ap.add_argument("folder", type=Path, nargs="?")
    ap.add_argument("--cut", type=Path, help="write a cut folder here instead of scoring")
    ap.add_argument("--others", type=int, default=6)
    a = ap.parse_args()
    if a.cut is not None:
        cut(a.per_question, a.cut, a.others)
        return
    if a.folder is None:
        ap.error("the dataset folder is needed to score")
    times = session_times(a.folder)
    rows = [json.loads(x) for x in a.per_question.read_text("utf-8").split("\n") if x]
    ku = [r for r in rows if "knowledge" in str(r.get("category", "")) and r["gold"]]
    systems = [k for k, v in ku[0].items() if isinstance(v, dict) and "ranks" in v] if ku else []
    for s in systems:
        wins = [r["id"] for r in ku if newest_first(r, s, times)]
        print(
            f"{s}: newest above superseded in {len(wins)}/{len(ku)} = {100 * len(wins) / len(ku):.1f}%"
        )


if __name__ == "__main__":
    main()
