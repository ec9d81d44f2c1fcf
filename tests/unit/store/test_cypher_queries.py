"""The Cypher statement loader, name checks, URL parsing and FalkorDB's parameter encoding."""

from __future__ import annotations

import pytest

from graphmem.errors import ConfigError, InputError
from graphmem.store.cypher import _split, open_cypher_store, redact
from graphmem.store.cypher.params import _fast_encode, compose, encode, header
from graphmem.store.cypher.queries import DIALECTS, Statement, check_name, load, names, parse


def test_every_statement_file_parses_and_declares_what_it_uses() -> None:
    for dialect in DIALECTS:
        for name in names(dialect):
            stmt = load(dialect, name)
            assert stmt.text and stmt.name.endswith(name)
    # A falkordb statement it does not override comes from the neo4j folder.
    assert load("falkordb", "get_nodes").name == "neo4j/get_nodes"
    assert load("falkordb", "vector_search").name == "falkordb/vector_search"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("// @param a\nMATCH (n {id: $a, x: $b}) RETURN n", "parameters used"),
        ("// @param a\n// @param b\nMATCH (n {id: $a}) RETURN n", "parameters used"),
        ("MATCH (n:__KIND__) RETURN n", "placeholders used"),
        ("// @template KIND\nMATCH (n) RETURN n", "placeholders used"),
        ("// only a comment", "empty"),
    ],
)
def test_a_file_whose_header_disagrees_with_its_body_is_refused(source: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse("bad", source)


@pytest.mark.parametrize(
    "bad",
    ["", "1abc", "a-b", "a b", "Passage) DETACH DELETE (n", "`x`", "a\u00e9", "x;y", "n:Label"],
)
def test_names_outside_the_pattern_are_refused(bad: str) -> None:
    with pytest.raises(InputError):
        check_name(bad, "label")
    stmt = load("neo4j", "upsert_edges")
    with pytest.raises(InputError):
        stmt.render(TYPE=bad)


def test_render_and_parameter_checks() -> None:
    stmt = load("neo4j", "upsert_edges").render(TYPE="MENTIONS")
    assert "[r:MENTIONS]" in stmt.text and "__TYPE__" not in stmt.text
    stmt.check_params({"ns": "a", "rows": []})
    with pytest.raises(ConfigError, match="declares parameters"):
        stmt.check_params({"ns": "a"})
    with pytest.raises(ConfigError, match="template"):
        load("neo4j", "upsert_edges").check_params({"ns": "a", "rows": []})
    with pytest.raises(ConfigError, match="need values"):
        load("neo4j", "upsert_edges").render()
    with pytest.raises(ConfigError, match="no Cypher statement"):
        load("neo4j", "no_such_statement")
    with pytest.raises(ConfigError, match="unknown Cypher dialect"):
        load("memgraph", "get_nodes")


def test_store_urls() -> None:
    assert _split("neo4j+s://u:p%40ss@db:7688/mydb?timeout=5") == (
        "neo4j+s",
        "db",
        7688,
        "u",
        "p@ss",
        "mydb",
        {"timeout": "5"},
    )
    assert redact("neo4j://u:secret@db:7687") == "neo4j://u:***@db:7687"
    assert redact("falkordb://db:6379/g") == "falkordb://db:6379/g"
    with pytest.raises(ConfigError, match="not a Cypher store URL"):
        open_cypher_store("redis://localhost:6379")
    with pytest.raises(ConfigError, match="no host"):
        open_cypher_store("falkordb:///graph")
    with pytest.raises(ConfigError, match="timeout"):
        open_cypher_store("falkordb://localhost:1?timeout=soon")


VALUES = [
    None,
    True,
    False,
    0,
    -7,
    2**62,
    1.5,
    1e-300,
    -0.0,
    "",
    "plain",
    'q"uote',
    "back\\slash",
    "\\u0041 is not an escape",
    "new\nline\ttab\rcr",
    "\x01ctrl",
    "é 東京 🎉",
    ["a", 1, None],
    {"k": [{"n": "v"}], "e": {}},
    [[1.0, 2.0], []],
]


def test_the_fast_encoder_agrees_with_the_exact_one() -> None:
    for value in VALUES:
        fast = _fast_encode(value)
        if fast is None:
            continue  # the exact encoder handles it alone (a control character)
        # The two differ only in how a newline, tab or carriage return is written.
        exact = encode(value).replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
        assert fast == exact, value
    assert _fast_encode("\x01ctrl") is None
    assert _fast_encode({"not an identifier": 1}) is None


def test_encoding_refuses_what_falkordb_cannot_hold() -> None:
    with pytest.raises(InputError, match="NUL"):
        header({"x": "a\x00b"})
    with pytest.raises(InputError, match="finite"):
        header({"x": float("nan")})
    with pytest.raises(ConfigError, match="identifier"):
        encode({"a b": 1})
    with pytest.raises(ConfigError, match="cannot send"):
        encode(object())


def test_compose_renames_each_statements_parameters() -> None:
    s1 = Statement(
        "one", "UNWIND $rows AS row CREATE (:A {id: row, ns: $ns})", frozenset({"rows", "ns"})
    )
    s2 = Statement("two", "UNWIND $rows AS row CREATE (:B {id: row})", frozenset({"rows"}))
    text, params = compose([(s1, {"rows": [1], "ns": "a"}), (s2, {"rows": [2]})])
    assert text.count("CALL {") == 2 and text.endswith("RETURN 1")
    assert "$w0_rows" in text and "$w0_ns" in text and "$w1_rows" in text and "$rows" not in text
    assert params == {"w0_rows": [1], "w0_ns": "a", "w1_rows": [2]}
    assert compose([(s2, {"rows": [3]})]) == (s2.text, {"rows": [3]})
