"""MCP's text words a fact as the CLI does: one wording (``retrieve.results.fact_wording``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graphmem.cli.render import fact_line
from graphmem.models import Fact, FactHit

pytest.importorskip("mcp_types")
from graphmem.mcp.render import fact_hit_out, facts_result

LISBON = Fact(
    id="f:1",
    subject="e:ada",
    predicate="lives in",
    object="e:lisbon",
    text="Ada lives in Lisbon",
    valid_at=datetime(2020, 1, 10, tzinfo=UTC),
    invalid_at=datetime(2024, 3, 1, tzinfo=UTC),
)
PORTO = Fact(
    id="f:2",
    subject="e:ada",
    predicate="lives in",
    object="e:porto",
    text="Ada lives in Porto",
    valid_at=datetime(2024, 3, 1, tzinfo=UTC),
)
UNDATED = Fact(id="f:3", subject="e:ada", predicate="knows", object="e:bo", text="Ada knows Bo")
SUPERSEDED = Fact(
    id="f:4",
    subject="e:ada",
    predicate="works at",
    object="e:acme",
    text="Ada works at Acme",
    expired_at=datetime(2023, 5, 2, tzinfo=UTC),
)


def _hit(fact: Fact, obj: str) -> FactHit:
    return FactHit(fact=fact, score=0.5, subject_name="Ada", object_name=obj)


def _mcp_lines(*hits: FactHit) -> list[str]:
    result = facts_result("where does Ada live", [fact_hit_out(h) for h in hits])
    return result.content[0].text.splitlines()  # type: ignore[union-attr]


def test_mcp_and_the_cli_word_validity_alike() -> None:
    hits = [
        _hit(LISBON, "Lisbon"),
        _hit(PORTO, "Porto"),
        _hit(UNDATED, "Bo"),
        _hit(SUPERSEDED, "Acme"),
    ]
    lines = _mcp_lines(*hits)
    joined = "\n".join(lines)
    assert "(Ada) -[lives in]-> (Lisbon) [since 2020-01-10, ended 2024-03-01]" in joined
    assert "(Ada) -[lives in]-> (Porto) [since 2024-03-01]" in joined
    assert "(Ada) -[works at]-> (Acme) [superseded 2023-05-02]" in joined
    undated = next(line for line in lines if "(Bo)" in line)
    assert undated.endswith("-[knows]-> (Bo)") and " → " not in joined and "now]" not in joined
    for hit in hits:  # the CLI line holds the same words
        cli = fact_line(hit).plain
        mcp = next(
            line for line in lines if f"-[{hit.fact.predicate}]-> ({hit.object_name})" in line
        )
        assert mcp.split(". ", 1)[1] in cli.replace(f"  {hit.score:.3f}  ", " ")


def test_structured_content_keeps_its_fields() -> None:
    out = fact_hit_out(_hit(LISBON, "Lisbon")).model_dump()
    assert out["current"] is False and out["valid_at"].year == 2020
    assert "_line" not in out and "line" not in out
