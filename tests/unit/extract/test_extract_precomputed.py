"""The precomputed extractor: parsing, repairs, clear errors, and a replay of musique's triples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphmem.errors import InputError
from graphmem.extract.base import Extractor
from graphmem.extract.precomputed import PrecomputedExtractor, repair_triple
from graphmem.models import Passage

SLICE = Path(__file__).resolve().parents[2] / "data" / "musique_slice" / "triples.jsonl"


def write(tmp_path: Path, lines: list[object] | bytes) -> Path:
    path = tmp_path / "triples.jsonl"
    if isinstance(lines, bytes):
        path.write_bytes(lines)
    else:
        path.write_text(
            "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", "utf-8"
        )
    return path


def passage(source: str | None = None, **metadata: object) -> Passage:
    return Passage(id="p:x", text="some text", source=source, metadata=dict(metadata))


def test_reads_records_and_matches_by_source_then_corpus_id(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            {
                "passage_id": "p0",
                "entities": ["Paris", "France", " Paris "],
                "triples": [["Paris", "is capital of", "France"]],
                "malformed_triples": [],
            },
            "",  # blank lines are skipped
            {"passage_id": "p1", "entities": [], "triples": [["Rome", "in", "Italy"]]},
        ],
    )
    ex = PrecomputedExtractor.from_file(path)
    assert isinstance(ex, Extractor)
    assert (ex.name, ex.cacheable) == ("precomputed", False)
    assert len(ex) == 2 and "p0" in ex

    by_source, by_meta, missing = ex.extract(
        [passage("p0"), passage("not-a-corpus-id", corpus_id="p1"), passage("p9")]
    )
    assert [(f.subject, f.predicate, f.object) for f in by_source.facts] == [
        ("Paris", "is capital of", "France")
    ]
    assert [e.name for e in by_source.entities] == ["Paris", "France"]  # deduplicated
    # entities named only by a triple are entities too
    assert {e.name for e in by_meta.entities} == {"Rome", "Italy"}
    assert missing.facts == [] and missing.entities == [] and missing.error is None


def test_repairs_and_drops_are_counted(tmp_path: Path) -> None:
    record = {
        "passage_id": "p0",
        "triples": [
            ["Adam Wright", "is", "nephew of", "Alan Jackson"],  # 4 parts: joined predicate
            ["  Paris ", "is  in", "France"],  # whitespace
            ["Journal", "founded in", 1963],  # a number where a string belongs
            ["Metlako Falls", "is tall"],  # 2 parts: dropped
            ["A", "", "B"],  # empty part: dropped
            ["A", "b", None],  # null: dropped
            ["Mississippi River", "joins", "Ohio River", "at", "Cairo"],  # 5 parts: dropped
            ["Rome", "in", "Italy"],  # fine
        ],
        "malformed_triples": [["Hiroshima", "Japanese city"], ["X", "is", "part of", "Y"]],
    }
    ex = PrecomputedExtractor.from_file(write(tmp_path, [record]))
    [out] = ex.extract([passage("p0")])
    assert [(f.subject, f.predicate, f.object) for f in out.facts] == [
        ("Adam Wright", "is nephew of", "Alan Jackson"),
        ("Paris", "is in", "France"),
        ("Journal", "founded in", "1963"),
        ("Rome", "in", "Italy"),
    ]
    assert out.repaired == 3
    assert out.dropped == 4 + 2  # four unusable triples and the two malformed_triples entries
    assert ex.stats() == {"passages": 1, "entities": 0, "facts": 4, "repaired": 3, "dropped": 6}

    # on request, malformed_triples entries are repaired too where possible
    ex2 = PrecomputedExtractor.from_file(write(tmp_path, [record]), repair_malformed=True)
    [out2] = ex2.extract([passage("p0")])
    assert ("X", "is part of", "Y") in {(f.subject, f.predicate, f.object) for f in out2.facts}
    assert out2.dropped == 4 + 1


def test_repair_triple_cases() -> None:
    assert repair_triple(["a", "b", "c"]) == (("a", "b", "c"), False)
    assert repair_triple(["a", "b", "c", "d"]) == (("a", "b c", "d"), True)
    assert repair_triple(["a", "b"]) == (None, False)
    assert repair_triple(["a", True, "c"]) == (None, False)
    assert repair_triple(["a", ["b"], "c"]) == (None, False)


@pytest.mark.parametrize(
    ("content", "line", "field", "needle"),
    [
        ([{"passage_id": "p0"}, {"passage_id": "p1"}, "{not json"], 3, None, "not valid JSON"),
        ([{"passage_id": "p0"}, {"entities": []}], 2, "passage_id", "missing"),
        ([{"passage_id": ""}], 1, "passage_id", "non-empty"),
        ([{"passage_id": "p0", "triples": ["a", "b", "c"]}], 1, "triples", "not a list"),
        ([{"passage_id": "p0", "triples": {"a": 1}}], 1, "triples", "must be a list"),
        ([{"passage_id": "p0", "malformed_triples": [7]}], 1, "malformed_triples", "not a list"),
        ([{"passage_id": "p0", "entities": "Paris"}], 1, "entities", "must be a list"),
        ([{"passage_id": "p0"}, {"passage_id": "p0"}], 2, "passage_id", "duplicate"),
        ([["p0", []]], 1, None, "JSON object"),
    ],
)
def test_bad_lines_name_file_line_and_field(
    tmp_path: Path, content: list[object], line: int, field: str | None, needle: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(InputError) as info:
        PrecomputedExtractor.from_file(path)
    err = info.value
    assert (err.path, err.line, err.field) == (str(path), line, field)
    assert needle in str(err) and f"{path}:{line}:" in str(err)


def test_non_utf8_bytes(tmp_path: Path) -> None:
    good = json.dumps({"passage_id": "p0"}).encode()
    path = write(tmp_path, good + b"\n" + b'{"passage_id": "p1", "entities": ["caf\xe9"]}\n')
    with pytest.raises(InputError) as info:
        PrecomputedExtractor.from_file(path)
    assert info.value.line == 2 and "UTF-8" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        PrecomputedExtractor.from_file(tmp_path / "nope.jsonl")
    assert info.value.path == str(tmp_path / "nope.jsonl")


def test_from_records_mapping_and_list() -> None:
    ex = PrecomputedExtractor.from_records(
        {"a": {"entities": ["X"], "triples": [["X", "likes", "Y"]]}, "b": {}}
    )
    assert ex.stats()["passages"] == 2
    [a, b] = ex.extract([passage("a"), passage("b")])
    assert [f.object for f in a.facts] == ["Y"] and b.facts == []
    ex2 = PrecomputedExtractor.from_records([{"passage_id": "a", "triples": [["X", "likes", "Y"]]}])
    assert ex2.extract([passage("a")])[0].facts == a.facts
    with pytest.raises(InputError) as info:
        PrecomputedExtractor.from_records([{"triples": []}])
    assert info.value.field == "passage_id"


def replay_matches_the_file(path: Path) -> tuple[int, int, int, int]:
    """Count the file independently of the extractor, check the extractor agrees, return
    ``(records, well_formed, malformed, passages without facts)``."""
    well_formed = malformed = empty = records = 0
    for line in path.read_text("utf-8").splitlines():
        obj = json.loads(line)
        records += 1
        good = [
            t
            for t in obj["triples"]
            if isinstance(t, list)
            and len(t) == 3
            and all(isinstance(x, str) and x.strip() for x in t)
        ]
        well_formed += len(good)
        malformed += len(obj["malformed_triples"]) + len(obj["triples"]) - len(good)
        empty += not good
    ex = PrecomputedExtractor.from_file(path)
    stats = ex.stats()
    assert stats["passages"] == records
    assert stats["facts"] == well_formed
    assert stats["dropped"] == malformed

    ids = [json.loads(line)["passage_id"] for line in path.read_text("utf-8").splitlines()]
    outs = ex.extract([passage(pid) for pid in ids])
    assert sum(len(o.facts) for o in outs) == well_formed
    assert sum(not o.facts for o in outs) == empty
    return records, well_formed, malformed, empty


def test_musique_slice_replay_matches_the_file() -> None:
    """The shipped slice: 110 passages, 941 well-formed triples, 5 malformed, p752 without any."""
    assert replay_matches_the_file(SLICE) == (110, 941, 5, 1)


@pytest.mark.bench
def test_musique_replay_matches_the_file(bench_dir: Path) -> None:
    """The full folder: the README says 17,234 well-formed and 185 malformed; two have none."""
    path = bench_dir / "musique_train" / "triples.jsonl"
    assert replay_matches_the_file(path) == (1890, 17_234, 185, 2)
