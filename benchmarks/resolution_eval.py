"""Precision and recall of entity resolution on a labelled set of mention pairs (issue 14).

Each pair names a mention in a file (pinned by a ``context`` substring), a candidate entity and
whether they are the same. The engine's answer for the mention is what ingest would make of it:

1. the spaCy extractor reads the file and resolves short names within it, per occurrence
   (:func:`graphmem.extract.nlp_phrases.resolved_names`: "Florence" the subject is the person,
   "outside Florence" the city);
2. a name left as written goes through :func:`graphmem.ingest.resolve.resolve_mentions` with the
   file's names, then the names of every file (the namespace), as the ingest pipeline does.

A pair is *merged* when the mention ends in the candidate's node (resolved to it, or left as a
name equal to it: "Florence" left alone is the city "Florence, Italy"), *linked* when it merged
or got a split SYNONYM edge to it. Precision: share of merged pairs labelled same; recall: share
of same pairs merged. Each file is one passage here (what ingest does without chunking).

    python benchmarks/resolution_eval.py [--pairs examples/data/notes/resolution_pairs.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from graphmem.extract.base import Extraction
from graphmem.extract.nlp import SpacyExtractor
from graphmem.extract.nlp_phrases import clean, entity_spans, occurrence_labels, resolved_names
from graphmem.ingest.resolve import resolve_mentions
from graphmem.names import NameIndex, fold

NOTES = Path(__file__).resolve().parent.parent / "examples" / "data" / "notes"


@dataclass
class Scores:
    """Counts over the pairs; ``rows``: one (pair, merged, linked, what it resolved to) each."""

    pairs: int = 0
    positives: int = 0
    merged: int = 0
    merged_right: int = 0
    linked: int = 0
    linked_right: int = 0
    rows: list[tuple[dict[str, object], bool, bool, str]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.merged_right / self.merged if self.merged else 0.0

    @property
    def recall(self) -> float:
        return self.merged_right / self.positives if self.positives else 0.0

    @property
    def link_precision(self) -> float:
        return self.linked_right / self.linked if self.linked else 0.0

    @property
    def link_recall(self) -> float:
        return self.linked_right / self.positives if self.positives else 0.0


def _same_node(node: str, candidate: str) -> bool:
    """``node`` is the candidate's entity ("Florence" is the node of "Florence, Italy")."""
    return fold(node) in (fold(candidate), fold(candidate.split(",")[0]))


def evaluate(
    pairs_path: Path = NOTES / "resolution_pairs.jsonl",
    docs_dir: Path = NOTES / "docs",
    extractor: SpacyExtractor | None = None,
) -> Scores:
    """Score the pairs of ``pairs_path`` over the files of ``docs_dir``."""
    pairs = [json.loads(line) for line in pairs_path.read_text(encoding="utf-8").splitlines()]
    pairs = [p for p in pairs if p]
    files = sorted(p for p in docs_dir.rglob("*") if p.is_file())
    sources = [f.relative_to(docs_dir).as_posix() for f in files]
    texts = {s: f.read_text(encoding="utf-8") for s, f in zip(sources, files, strict=True)}
    ex = extractor or SpacyExtractor()
    extractions: dict[str, Extraction] = dict(
        zip(sources, ex.extract_texts([texts[s] for s in sources]), strict=True)
    )
    namespace = NameIndex()
    for extraction in extractions.values():
        namespace.add_all((e.name, e.type) for e in extraction.entities)
    needed = sorted({str(p["source"]) for p in pairs})
    parsed = dict(zip(needed, ex.nlp.pipe([texts[s] for s in needed]), strict=True))

    scores = Scores()
    for pair in pairs:
        source, mention = str(pair["source"]), str(pair["mention"])
        candidate, same = str(pair["candidate"]), bool(pair["same"])
        text, context = texts[source], str(pair.get("context") or mention)
        at = text.index(context) + context.index(mention)
        doc = parsed[source]
        spans = entity_spans(doc)
        ent_of = {i: e for e in spans for i in range(e.start, e.end)}
        local = resolved_names(doc, ent_of)
        doc_index = NameIndex()
        doc_index.add_all((clean(e.text), e.label_) for e in spans)
        labels = occurrence_labels(ent_of, doc_index)
        span = next((e for e in spans if e.start_char <= at < e.end_char), None)
        token = next((t for t in doc if t.idx <= at < t.idx + len(t.text)), None)
        targets: list[str] = []
        links: list[str] = []
        if span is not None and span.start in local:
            targets = [local[span.start]]
        elif span is None and token is not None and token.i in local:
            targets = [local[token.i]]
        else:
            name = clean(span.text) if span is not None else mention
            etype = labels.get(span.start, span.label_) if span is not None else None
            doc_names = NameIndex()
            doc_names.add_all((e.name, e.type) for e in extractions[source].entities)
            res = resolve_mentions({name: etype}, doc_names, namespace)
            if name in res.merges:
                targets = [res.merges[name]]
            else:
                targets = [name]
                links = [full for full, _ in res.links.get(name, [])]
        merged = any(_same_node(t, candidate) for t in targets)
        linked = merged or any(_same_node(t, candidate) for t in links)
        scores.pairs += 1
        scores.positives += same
        scores.merged += merged
        scores.merged_right += merged and same
        scores.linked += linked
        scores.linked_right += linked and same
        shown = " | ".join(targets) + (f" ~ {', '.join(links)}" if links else "")
        scores.rows.append((pair, merged, linked, shown))
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=NOTES / "resolution_pairs.jsonl")
    parser.add_argument("--docs", type=Path, default=NOTES / "docs")
    parser.add_argument("--errors", action="store_true", help="list the pairs scored wrong")
    args = parser.parse_args(argv)
    s = evaluate(args.pairs, args.docs)
    if args.errors:
        for pair, merged, linked, shown in s.rows:
            if merged != pair["same"]:
                print(
                    f"{'FP' if merged else 'FN'} {pair['source']}: {pair['mention']!r} -> "
                    f"{shown!r} (candidate {pair['candidate']!r}, linked={linked})"
                )
    print(f"pairs {s.pairs} (same {s.positives})")
    print(
        f"merged: precision {s.precision:.3f} ({s.merged_right}/{s.merged}), "
        f"recall {s.recall:.3f} ({s.merged_right}/{s.positives})"
    )
    print(
        f"merged or linked: precision {s.link_precision:.3f} ({s.linked_right}/{s.linked}), "
        f"recall {s.link_recall:.3f} ({s.linked_right}/{s.positives})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
