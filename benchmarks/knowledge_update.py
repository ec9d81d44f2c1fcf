"""LongMemEval knowledge-update questions: does the newest evidence turn rank above the superseded one?

For each question of category 6 (knowledge-update) in a ``graphmem bench --per-question`` file,
the evidence turns of the latest answer session are the *newest*, those of earlier answer
sessions the *superseded*; a question counts when the best-ranked newest turn is above every
superseded one (a turn not ranked counts as below all). Prints the share for every system.

Run: ``python benchmarks/knowledge_update.py PER_QUESTION.jsonl DATASET_FOLDER``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def session_times(folder: Path) -> dict[tuple[str, str], str]:
    """(conversation, dia_id) -> the time of its session, as written (sortable per dataset)."""
    out: dict[tuple[str, str], str] = {}
    for line in (folder / "turns.jsonl").read_text(encoding="utf-8").splitlines():
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("per_question", type=Path)
    ap.add_argument("folder", type=Path)
    a = ap.parse_args()
    times = session_times(a.folder)
    rows = [json.loads(x) for x in a.per_question.read_text("utf-8").splitlines() if x]
    ku = [r for r in rows if "knowledge" in str(r.get("category", "")) and r["gold"]]
    systems = [k for k, v in ku[0].items() if isinstance(v, dict) and "ranks" in v] if ku else []
    for s in systems:
        wins = [r["id"] for r in ku if newest_first(r, s, times)]
        print(
            f"{s}: newest above superseded in {len(wins)}/{len(ku)} = {100 * len(wins) / len(ku):.1f}%"
        )


if __name__ == "__main__":
    main()
