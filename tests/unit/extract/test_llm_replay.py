"""Replay GPT-3.5's real extraction output (HippoRAG's ``triples.jsonl``: the shipped musique slice,
and with the ``bench`` marker the full musique_train) through the parser, as the JSON the model answered: ``{"named_entities": [...]}`` and
``{"triples": [...]}`` with the malformed triples put back among the good ones.

What must hold: every well-formed triple and every entity comes out unchanged (zero loss), and of
the malformed ones, those that can be repaired are (4+ parts), the rest (2 parts) are dropped and
counted.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from graphmem.extract.parse import coerce_triple, parse_entity_names, parse_extraction

SLICE = Path(__file__).resolve().parents[2] / "data" / "musique_slice" / "triples.jsonl"


def read(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_replay_of_the_slice_loses_nothing_but_the_malformed() -> None:
    # the slice's 5 malformed triples: 4 with four parts (repaired), 1 with two (dropped)
    assert replay(read(SLICE)) == (941, 5, 4, 1)


@pytest.mark.bench
def test_replay_gpt35_output_loses_nothing_but_the_malformed(bench_dir: Path) -> None:
    good, malformed, _, _ = replay(read(bench_dir / "musique_train" / "triples.jsonl"))
    assert good == 17_234 and malformed == 185


def replay(records: list[dict[str, object]]) -> tuple[int, int, int, int]:
    """Replay every record; check zero loss; return ``(well-formed, malformed, repaired, dropped)``."""
    rng = random.Random(3)
    good_total = kept = repaired = dropped = malformed_total = entity_total = 0
    for record in records:
        good = [list(t) for t in record["triples"]]  # type: ignore[attr-defined]
        malformed = [list(t) for t in record["malformed_triples"]]  # type: ignore[attr-defined]
        entities = list(record["entities"])  # type: ignore[call-overload]
        # the model wrote them in one list; put each malformed one back at a random place
        answer = list(good)
        for bad in malformed:
            answer.insert(rng.randint(0, len(answer)), bad)

        assert parse_entity_names(json.dumps({"named_entities": entities})) == entities
        out = parse_extraction(json.dumps({"triples": answer}, ensure_ascii=False))

        facts = [(f.subject, f.predicate, f.object) for f in out.facts]
        expected = [t for t in (coerce_triple(item)[0] for item in answer) if t is not None]
        assert facts == expected
        # zero loss: each well-formed triple is there, unchanged, as many times as it was given
        remaining = list(facts)
        for triple in good:
            remaining.remove((triple[0], triple[1], triple[2]))
        assert len(remaining) == out.repaired
        assert out.repaired + out.dropped == len(malformed)

        good_total += len(good)
        kept += len(facts)
        repaired += out.repaired
        dropped += out.dropped
        malformed_total += len(malformed)
        entity_total += len(entities)

    repairable = sum(
        1
        for r in records
        for t in r["malformed_triples"]  # type: ignore[attr-defined]
        if len(t) >= 4
    )
    print(
        f"\nreplay: {len(records)} passages, {entity_total} entities, {good_total} well-formed "
        f"triples kept, {malformed_total} malformed: {repaired} repaired, {dropped} dropped; "
        f"{kept} facts out"
    )
    assert repaired == repairable and dropped == malformed_total - repairable
    assert kept == good_total + repaired
    return good_total, malformed_total, repaired, dropped
