"""One reading of an ISO 8601 time (issue 19, part 4): ``timeparse.parse_iso``, and the CLI,
MCP and GraphQL read times through it, so the same text means the same instant everywhere."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from graphmem.cli.terminal import parse_between
from graphmem.errors import ConfigError, InputError
from graphmem.mcp.tools import parse_time
from graphmem.models import Episode, Fact
from graphmem.timeparse import parse_iso
from graphmem_api.schema import DATETIME

TEXTS = {
    "2024-03-01": datetime(2024, 3, 1, tzinfo=UTC),
    "2024-03-01T10:00": datetime(2024, 3, 1, 10, tzinfo=UTC),
    "2024-03-01T10:00Z": datetime(2024, 3, 1, 10, tzinfo=UTC),
    "2024-03-01T10:00:00z": datetime(2024, 3, 1, 10, tzinfo=UTC),
    " 2024-03-01T12:00+02:00 ": datetime(2024, 3, 1, 12, tzinfo=timezone(timedelta(hours=2))),
}


@pytest.mark.parametrize(("text", "when"), TEXTS.items())
def test_every_surface_reads_a_time_alike(text: str, when: datetime) -> None:
    assert parse_iso(text) == when and parse_iso(text).tzinfo is not None  # type: ignore[union-attr]
    assert parse_time(text) == when  # MCP
    assert parse_between((text, "-")) == (when, None)  # the CLI's --between
    assert DATETIME.parse_value(text.strip()) == when  # type: ignore[misc]  # GraphQL's DateTime


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "01/03/2024", "2024-03-01T25:00"])
def test_every_surface_refuses_what_is_not_iso(text: str) -> None:
    with pytest.raises(InputError, match="cannot read") as err:
        parse_iso(text, "as_of")
    assert err.value.field == "as_of"
    with pytest.raises(ToolError, match="as_of: cannot read"):
        parse_time(text, "as_of")
    with pytest.raises(ConfigError, match="START"):
        parse_between((text, "-"))
    with pytest.raises(InputError):
        DATETIME.parse_value(text)  # type: ignore[misc]


def test_no_text_is_no_time() -> None:
    assert parse_iso(None) is None and parse_iso("  ") is None and parse_time("") is None
    with pytest.raises(InputError, match="expected ISO 8601 text"):
        DATETIME.parse_value(20240301)  # type: ignore[misc]  # a GraphQL number: BAD_REQUEST


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("2023-05-20T02:21:00Z", 0),
        ("2023-05-20T02:21:00+00:00", 0),
        ("2023-05-20T04:21:00+02:00", 2),
    ],
)
def test_a_stored_time_at_offset_0_carries_the_standard_utc(text: str, offset: int) -> None:
    # pydantic reads "Z" as its own TzInfo; a stored model's time must compare as fast as UTC's
    ep = Episode.model_validate_json(json.dumps({"id": "ep:1", "text": "hi", "time": text}))
    fact = Fact.model_validate_json(
        json.dumps(
            {
                "id": "f:1",
                "subject": "e:a",
                "predicate": "p",
                "object": "e:b",
                "text": "",
                "valid_at": text,
                "created_at": text,
            }
        )
    )
    same = datetime(2023, 5, 20, 2, 21, tzinfo=UTC)
    for when in (ep.time, fact.valid_at, fact.created_at):
        assert when == same
        assert (when.tzinfo is UTC) == (offset == 0)
        assert when.utcoffset() == timedelta(hours=offset)
    assert json.loads(ep.model_dump_json())["time"] == text.replace("+00:00", "Z")
