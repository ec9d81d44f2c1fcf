"""Parsing and repair of model output: property tests (hypothesis) and the documented cases.

Properties: whatever the text, :func:`parse_extraction` returns or raises ``UnparseableOutput``
(nothing else), and every fact it returns has three non-empty, trimmed strings without line breaks.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from graphmem.errors import ExtractionError, UnparseableOutput
from graphmem.extract.parse import (
    OutputMode,
    ParsedOutput,
    coerce_triple,
    load_json,
    output_schema,
    parse_entity_names,
    parse_extraction,
)

ASCII_RUNS = re.compile(r"[\t\r\n\f\v]|  ")
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def well_formed(out: ParsedOutput) -> None:
    for fact in out.facts:
        for part in (fact.subject, fact.predicate, fact.object):
            assert isinstance(part, str) and part
            assert part == part.strip() and not ASCII_RUNS.search(part)
    for entity in out.entities:
        assert entity.name and entity.name == entity.name.strip()
    for event in out.events:
        assert event.description and all(event.participants)
    assert out.repaired >= 0 and out.dropped >= 0


def parse_or_documented_error(text: str) -> ParsedOutput | None:
    try:
        out = parse_extraction(text)
    except UnparseableOutput as exc:
        assert isinstance(exc, ExtractionError)
        return None
    well_formed(out)
    return out


# -- properties ------------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.sampled_from(["triples", "named_entities", "events", "subject", "x", "description"])
            | st.text(max_size=8),
            inner,
            max_size=4,
        )
    ),
    max_leaves=30,
)
words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=12)
triples = st.lists(st.lists(words | st.integers() | st.none(), min_size=0, max_size=6), max_size=8)


@PROPERTY
@given(st.text(max_size=400))
@example("")
@example("```json\n{")
@example('{"triples": [["a", "b"')
@example("[" * 5000)
@example('{"triples": "nan", "events": [{"description": NaN}]}')
def test_arbitrary_text_never_raises_anything_else(text: str) -> None:
    parse_or_documented_error(text)


@PROPERTY
@given(json_values)
def test_arbitrary_json_never_raises_anything_else(value: Any) -> None:
    parse_or_documented_error(json.dumps(value))


@PROPERTY
@given(triples, st.sampled_from(["plain", "fence", "prose", "trailing_comma", "single_quotes"]))
def test_triples_survive_wrapping_and_every_fact_is_well_formed(
    items: list[list[Any]], wrapping: str
) -> None:
    text = json.dumps({"triples": items}, ensure_ascii=True)
    if wrapping == "fence":
        text = f"```json\n{text}\n```"
    elif wrapping == "prose":
        text = f"Sure, here you go:\n{text}\nLet me know if you need more."
    elif wrapping == "trailing_comma":
        text = text.replace("]", ",]").replace("[,]", "[]")
    elif wrapping == "single_quotes" and "'" not in text and "\\" not in text:
        text = text.replace('"', "'")
    out = parse_or_documented_error(text)
    assert out is not None
    # nothing lost: every item is either kept or counted as dropped
    assert len(out.facts) + out.dropped == len(items)
    expected = [t for t in (coerce_triple(item)[0] for item in items) if t is not None]
    assert [(f.subject, f.predicate, f.object) for f in out.facts] == expected


@PROPERTY
@given(
    st.lists(
        st.tuples(
            st.text("abcdefg xyz,", min_size=1, max_size=8).filter(str.strip),
            st.text("abcdefg xyz,", min_size=1, max_size=8).filter(str.strip),
            st.text("abcdefg xyz,", min_size=1, max_size=8).filter(str.strip),
        ),
        min_size=1,
        max_size=6,
    ),
    st.data(),
)
def test_truncated_answers_yield_only_complete_facts(
    items: list[tuple[str, str, str]], data: st.DataObject
) -> None:
    pytest.importorskip("json_repair")
    text = json.dumps({"triples": [list(t) for t in items]})
    cut = data.draw(st.integers(min_value=1, max_value=len(text) - 1))
    out = parse_or_documented_error(text[:cut])
    if out is None:
        return
    originals = {tuple(" ".join(p.split()) for p in t) for t in items}  # ASCII-only alphabet
    for fact in out.facts:
        assert (fact.subject, fact.predicate, fact.object) in originals


# -- documented cases ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected", "repaired"),
    [
        (["a", "b", "c"], ("a", "b", "c"), False),
        ([" a ", "b  c", "d"], ("a", "b c", "d"), False),
        (
            ["Adam Wright", "is", "nephew of", "Alan Jackson"],
            ("Adam Wright", "is nephew of", "Alan Jackson"),
            True,
        ),
        (
            ["Mississippi River", "joins", "Ohio River", "at", "Cairo"],
            ("Mississippi River", "joins", "Ohio River"),
            True,
        ),
        (["a", "", "b", "c"], ("a", "b", "c"), True),
        (["Apollo", "launched in", 1969], ("Apollo", "launched in", "1969"), True),
        ({"subject": "a", "predicate": "b", "object": "c"}, ("a", "b", "c"), False),
        (["a", "b"], None, False),
        (["a", "", "c"], None, False),
        (["a", None, "c"], None, False),
        (["a", ["b"], "c"], None, False),
        ("a | b | c", None, False),
        ([], None, False),
    ],
)
def test_triple_repairs(item: Any, expected: tuple[str, str, str] | None, repaired: bool) -> None:
    triple, was_repaired = coerce_triple(item)
    assert triple == expected
    if expected is not None:
        assert was_repaired is repaired


@pytest.mark.parametrize(
    "text",
    [
        '{"triples": [["a", "b", "c"],]}',
        "{'triples': [['a', 'b', 'c']]}",
        '```\n{"triples": [["a", "b", "c"]]}\n```',
        'The answer is {"triples": [["a", "b", "c"]]} as requested.',
        '{"output": {"triples": [["a", "b", "c"]]}}',
        '[["a", "b", "c"]]',
        '{"Triples": [{"subject": "a", "predicate": "b", "object": "c"}]}',
    ],
)
def test_common_shapes_give_the_triple(text: str) -> None:
    out = parse_extraction(text)
    assert [(f.subject, f.predicate, f.object) for f in out.facts] == [("a", "b", "c")]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "I'm sorry, I can't help with that.",
        "42",
        '"just a string"',
        '{"foo": 1}',
        "null",
    ],
)
def test_unusable_answers_raise_the_documented_error(text: str) -> None:
    with pytest.raises(UnparseableOutput):
        parse_extraction(text)


def test_truncated_json_keeps_complete_items_only() -> None:
    pytest.importorskip("json_repair")
    text = '{"named_entities": ["Bled", "Slovenia"], "triples": [["Bled", "in", "Slovenia"], ["Bled", "has", "a la'
    out = parse_extraction(text)
    assert out.syntax_repaired
    assert [(f.subject, f.predicate, f.object) for f in out.facts] == [("Bled", "in", "Slovenia")]
    assert [e.name for e in out.entities] == ["Bled", "Slovenia"]


def test_events_are_validated() -> None:
    out = parse_extraction(
        json.dumps(
            {
                "events": [
                    {"description": "Bled opened", "time": 1948, "participants": ["Bled", ""]},
                    {"description": "", "time": "x"},
                    {"event": "Worlds held", "date": "1966", "participants": "Bled"},
                    "a bare description",
                    7,
                ]
            }
        )
    )
    assert [(e.description, e.time, e.participants) for e in out.events] == [
        ("Bled opened", "1948", ["Bled"]),
        ("Worlds held", "1966", ["Bled"]),
        ("a bare description", None, []),
    ]
    assert out.dropped == 2 and out.repaired == 3


def test_entity_names() -> None:
    assert parse_entity_names(
        '{"named_entities": ["Paris", {"name": "France", "type": "GPE"}]}'
    ) == [
        "Paris",
        "France",
    ]
    assert parse_entity_names('["Paris", 3, "", null]') == ["Paris", "3"]


def test_load_json_reports_repairs() -> None:
    assert load_json('{"a": 1}') == ({"a": 1}, False)
    assert load_json("```json\n[1, 2]\n```") == ([1, 2], False)
    assert load_json("[1, 2,]") == ([1, 2], True)


def test_modes_downgrade_in_order() -> None:
    assert OutputMode.JSON_SCHEMA.downgrade() is OutputMode.JSON_OBJECT
    assert OutputMode.JSON_OBJECT.downgrade() is OutputMode.TEXT
    assert OutputMode.TEXT.downgrade() is None


def test_output_schema_is_strict() -> None:
    schema = output_schema("named_entities", "triples", "events")
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["named_entities", "triples", "events"]
    event = schema["properties"]["events"]["items"]
    assert event["additionalProperties"] is False and set(event["required"]) == set(
        event["properties"]
    )
