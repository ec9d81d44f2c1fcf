"""Cut ``tests/data/musique_slice`` from the full ``musique_train`` folder (run once; kept for provenance).

The slice: the first 20 questions, every gold passage of them, the first 3 non-gold candidates of
each question as distractors, and one passage the extractor left without triples (p752); their
``triples.jsonl`` lines unchanged. ``candidate_passage_ids`` keeps only the ids the slice holds.

    python tests/data/make_musique_slice.py ../shared/bench/musique_train tests/data/musique_slice
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

QUESTIONS = 20
DISTRACTORS_PER_QUESTION = 3
NO_TRIPLES = ("p752",)


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def write(path: Path, rows: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    path.write_text(text, encoding="utf-8")


def main(src: Path, dst: Path) -> None:
    questions = read(src / "questions.jsonl")[:QUESTIONS]
    keep: set[str] = set(NO_TRIPLES)
    for q in questions:
        keep.update(q["gold_passage_ids"])
        keep.update(
            [c for c in q["candidate_passage_ids"] if c not in q["gold_passage_ids"]][
                :DISTRACTORS_PER_QUESTION
            ]
        )
    corpus = [row for row in read(src / "corpus.jsonl") if row["id"] in keep]
    for q in questions:
        q["candidate_passage_ids"] = [c for c in q["candidate_passage_ids"] if c in keep]
    triples = [row for row in read(src / "triples.jsonl") if row["passage_id"] in keep]
    dst.mkdir(parents=True, exist_ok=True)
    write(dst / "corpus.jsonl", corpus)
    write(dst / "questions.jsonl", questions)
    write(dst / "triples.jsonl", triples)
    print(f"{len(questions)} questions, {len(corpus)} passages, {len(triples)} triples lines")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
