"""Precision and recall of what an ingest makes of real-looking Markdown (issue 21, item 10).

The five files in ``tests/data/markdown_extraction`` (tables, ``**Key:**`` lines, emphasis,
dated update sections, short names) go through the whole ingest as a user's folder would:
loaders, chunking, the offline spaCy extractor, name resolution, into an in-memory SQLite store.
The stored entities and facts are scored against ``labels.json``:

- an entity is right when its name (or an alias) names a labelled entity or concept, and no other
  stored entity already took that labelled one (two nodes for one thing: the second is wrong);
- a fact is right when its subject and object name a labelled fact's subject and object and its
  predicate holds one of that fact's keywords (a value object, "2015", is read from the text);
- precision: share of the stored ones that are right; recall: share of the labelled (entities;
  facts not marked optional) that were found.

    python benchmarks/extraction_eval.py [--show]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

from graphmem.names import fold

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "markdown_extraction"


@dataclass
class Scores:
    """Counts, and the stored entities and facts that were wrong (for --show)."""

    entities: int = 0
    entities_right: int = 0
    entities_labelled: int = 0
    entities_found: int = 0
    facts: int = 0
    facts_right: int = 0
    facts_labelled: int = 0
    facts_found: int = 0
    wrong: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    self_loops: list[str] = field(default_factory=list)

    @staticmethod
    def _share(a: int, b: int) -> float:
        return a / b if b else 0.0

    @property
    def entity_precision(self) -> float:
        return self._share(self.entities_right, self.entities)

    @property
    def entity_recall(self) -> float:
        return self._share(self.entities_found, self.entities_labelled)

    @property
    def fact_precision(self) -> float:
        return self._share(self.facts_right, self.facts)

    @property
    def fact_recall(self) -> float:
        return self._share(self.facts_found, self.facts_labelled)


def ingest(folder: Path = DATA) -> tuple[dict[str, object], dict[str, object]]:
    """The entities and facts (by id) an ingest of ``folder`` stores."""
    from graphmem.ingest.folders import read_documents
    from graphmem.memory import Memory
    from graphmem.store.sqlite import SQLiteStore

    store = SQLiteStore(":memory:")
    with Memory(store, extractor="nlp") as mem:
        mem.add_many(read_documents(folder), replace_sources=True)
        ns = mem.namespace
        entities = store.get_entities(ns, store.list_ids(ns, "entity"))
        facts = store.get_facts(ns, store.list_ids(ns, "fact"))
    return dict(entities), dict(facts)


def evaluate(folder: Path = DATA) -> Scores:
    """Score an ingest of ``folder`` against its ``labels.json``."""
    labels = json.loads((folder / "labels.json").read_text())
    canon: dict[str, str] = {}
    for name, aliases in labels["entities"].items():
        for form in (name, *aliases):
            canon[fold(form)] = name
    for concept in labels["concepts"]:
        canon.setdefault(fold(concept), concept)
    entities, facts = ingest(folder)
    scores = Scores(entities_labelled=len(labels["entities"]))

    taken: set[str] = set()
    for e in sorted(entities.values(), key=lambda e: e.id):  # type: ignore[attr-defined]
        scores.entities += 1
        names = [e.name, *e.aliases]  # type: ignore[attr-defined]
        hit = next((canon[fold(n)] for n in names if fold(n) in canon), None)
        if hit is not None and hit not in taken:
            taken.add(hit)
            scores.entities_right += 1
        else:
            scores.wrong.append(f"entity {e.name!r}")  # type: ignore[attr-defined]
    scores.entities_found = len(taken & set(labels["entities"]))

    wanted = [
        (s, [k.lower() for k in keys], o, len(rest) > 0) for s, keys, o, *rest in labels["facts"]
    ]
    scores.facts_labelled = sum(1 for *_, optional in wanted if not optional)
    found: set[int] = set()
    for f in facts.values():
        subj = entities[f.subject].name  # type: ignore[attr-defined]
        pred = f.predicate.lower()  # type: ignore[attr-defined]
        if f.object == f.subject:  # type: ignore[attr-defined]
            obj = f.text.split(f" {f.predicate} ", 1)[-1]  # type: ignore[attr-defined]
            scores.self_loops.append(f.text)  # type: ignore[attr-defined]
        else:
            obj = entities[f.object].name  # type: ignore[attr-defined]
        s, o = canon.get(fold(subj), subj), canon.get(fold(obj), obj)
        scores.facts += 1
        match = [
            i
            for i, (ws, keys, wo, _) in enumerate(wanted)
            if fold(ws) == fold(s) and fold(wo) == fold(o) and any(k in pred for k in keys)
        ]
        if match:
            scores.facts_right += 1
            found.update(match)
        else:
            scores.wrong.append(f"fact {f.text!r}")  # type: ignore[attr-defined]
    scores.facts_found = sum(1 for i in found if not wanted[i][3])
    scores.missed = [
        f"{s} [{'/'.join(k)}] {o}"
        for i, (s, k, o, opt) in enumerate(wanted)
        if i not in found and not opt
    ]
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--folder", type=Path, default=DATA)
    parser.add_argument("--show", action="store_true", help="list what was wrong and missed")
    args = parser.parse_args()
    s = evaluate(args.folder)
    print(
        f"entities: {s.entities} stored, precision {s.entity_precision:.3f}, "
        f"recall {s.entity_recall:.3f} ({s.entities_found}/{s.entities_labelled})"
    )
    print(
        f"facts:    {s.facts} stored, precision {s.fact_precision:.3f}, "
        f"recall {s.fact_recall:.3f} ({s.facts_found}/{s.facts_labelled})"
    )
    print(f"self-loops: {len(s.self_loops)}")
    if args.show:
        for line in s.wrong:
            print("  wrong:", line)
        for line in s.missed:
            print("  missed:", line)
        for line in s.self_loops:
            print("  loop:", line)


if __name__ == "__main__":
    main()
