"""The README's examples are checked: its GraphQL validates against the served schema, and every
command it lists exists in the CLI."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import parse, validate
from typer.testing import CliRunner

from graphmem.cli import app
from graphmem_api.schema import schema

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_graphql_examples_validate_against_the_schema() -> None:
    blocks = re.findall(r"```graphql\n(.*?)```", README, flags=re.S)
    assert blocks
    for block in blocks:
        errors = validate(schema._schema, parse(block))
        assert errors == [], [e.message for e in errors]


def test_every_listed_command_exists() -> None:
    commands = set(re.findall(r"^graphmem ([a-z]+)", README, flags=re.M))
    commands |= set(re.findall(r"\| (stats|delete|export) ", README))
    assert {"ingest", "search", "serve", "bench", "viz", "keys"} <= commands
    for name in sorted(commands):
        result = CliRunner().invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
