"""What the tools return: short readable text for the model, and the same as structured content.

Each tool answers a :class:`~mcp_types.CallToolResult` whose text is a few lines a model can read
and whose ``structuredContent`` follows one of the output models below (published as the tool's
output schema).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, Field, PrivateAttr

from graphmem.models import (
    DeleteReport,
    Entity,
    EpisodeHit,
    Fact,
    FactHit,
    Hyperedge,
    IngestReport,
    Neighbor,
    PassageHit,
    SearchResult,
    Stats,
    fact_wording,
    is_current,
)

#: characters of a passage or episode shown in the text part (the structured part has it all)
SNIPPET = 300


class FactOut(BaseModel):
    id: str
    subject: str
    predicate: str
    object: str
    text: str
    score: float | None = None
    #: in [0, 1], one scale for every kind of hit
    relevance: float | None = None
    valid_at: datetime | None = None
    invalid_at: datetime | None = None
    #: not ended in the world and not superseded in memory
    current: bool = True
    # the text part's line, worded as the CLI words it; not part of the structured content
    _line: str = PrivateAttr(default="")


class PassageOut(BaseModel):
    id: str
    source: str | None = None
    title: str | None = None
    text: str
    score: float
    #: in [0, 1], one scale for passages and episodes (the text lists both by it)
    relevance: float = 0.0
    #: the entities (and facts) that linked the question to this passage
    path: list[str] = Field(default_factory=list)
    facts: list[FactOut] = Field(default_factory=list)


class EpisodeOut(BaseModel):
    id: str
    text: str
    time: datetime
    speaker: str | None = None
    session: str | None = None
    score: float
    relevance: float = 0.0
    facts: list[FactOut] = Field(default_factory=list)


class SearchOut(BaseModel):
    query: str
    #: how the passages were ranked ("graph", "dense", "episodic")
    mode: str
    #: in [0, 1]: how likely the hits hold the answer
    confidence: float = 0.0
    #: confidence reached the documented threshold (else: probably not in memory)
    answerable: bool = False
    passages: list[PassageOut] = Field(default_factory=list)
    episodes: list[EpisodeOut] = Field(default_factory=list)


class FactsOut(BaseModel):
    query: str
    facts: list[FactOut] = Field(default_factory=list)


class NeighborOut(BaseModel):
    id: str
    kind: str
    label: str
    edge_type: str
    direction: str
    weight: float


class EntityOut(BaseModel):
    id: str
    name: str
    type: str | None = None
    aliases: list[str] = Field(default_factory=list)
    facts: list[FactOut] = Field(default_factory=list)
    neighbors: list[NeighborOut] = Field(default_factory=list)


class RejectedOut(BaseModel):
    """An item of a batch that was not stored (the others were), as the API's ``Job.rejected``."""

    index: int
    message: str


class IngestOut(BaseModel):
    passages_added: int = 0
    passages_skipped: int = 0
    passages_failed: int = 0
    episodes_added: int = 0
    episodes_skipped: int = 0
    entities_added: int = 0
    facts_added: int = 0
    seconds: float = 0.0
    #: items refused one by one (bad text or time, or one that failed alone); the rest is stored
    rejected: list[RejectedOut] = Field(default_factory=list)


class DeleteOut(BaseModel):
    source: str
    passages: int = 0
    episodes: int = 0
    entities: int = 0
    facts: int = 0
    hyperedges: int = 0


class NoteOut(BaseModel):
    id: str
    description: str
    members: list[str] = Field(default_factory=list)


def result(text: str, data: BaseModel) -> CallToolResult:
    """A tool answer: ``text`` for the model, ``data`` as structured content."""
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=data.model_dump(mode="json"),
    )


def _clip(text: str, n: int = SNIPPET) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def fact_out(
    fact: Fact, score: float | None = None, names: tuple[str, str] | None = None
) -> FactOut:
    subject, obj = names or (fact.subject, fact.object)
    out = FactOut(
        id=fact.id,
        subject=subject,
        predicate=fact.predicate,
        object=obj,
        text=fact.text,
        score=score,
        valid_at=fact.valid_at,
        invalid_at=fact.invalid_at,
        current=is_current(fact),
    )
    words = fact_wording(fact, subject, obj)
    if not words.current:
        out._line = f"{words.text} [{words.when or 'ended'}]"
    else:
        out._line = f"{words.text} [{words.when}]" if words.when else words.text
    return out


def fact_hit_out(hit: FactHit) -> FactOut:
    out = fact_out(hit.fact, hit.score, (hit.subject_name, hit.object_name))
    out.relevance = hit.relevance
    return out


def _fact_line(f: FactOut) -> str:
    return f._line


def _passage_out(hit: PassageHit) -> PassageOut:
    p = hit.passage
    return PassageOut(
        id=p.id,
        source=p.source,
        title=p.title,
        text=p.text,
        score=hit.score,
        relevance=hit.relevance,
        path=list(hit.path),
        facts=[fact_hit_out(f) for f in hit.facts],
    )


def _episode_out(hit: EpisodeHit) -> EpisodeOut:
    ep = hit.episode
    return EpisodeOut(
        id=ep.id,
        text=ep.text,
        time=ep.time,
        speaker=ep.speaker,
        session=ep.session,
        score=hit.score,
        relevance=hit.relevance,
        facts=[fact_hit_out(f) for f in hit.facts],
    )


def search_result(query: str, found: SearchResult, k: int) -> CallToolResult:
    data = SearchOut(
        query=query,
        mode=found.mode,
        confidence=found.confidence,
        answerable=found.answerable,
        passages=[_passage_out(h) for h in found.passages[:k]],
        episodes=[_episode_out(h) for h in found.episodes[:k]],
    )
    # one list by relevance (one scale for both kinds), never passage, episode, passage, ...
    items: list[tuple[float, int, int, PassageOut | EpisodeOut]] = [
        (-p.relevance, 0, i, p) for i, p in enumerate(data.passages)
    ]
    items += [(-e.relevance, 1, i, e) for i, e in enumerate(data.episodes)]
    lines: list[str] = []
    for rank, (_, _, _, hit) in enumerate(sorted(items, key=lambda t: t[:3]), start=1):
        scores = f"(relevance {hit.relevance:.2f}, score {hit.score:.4f})"
        if isinstance(hit, PassageOut):
            lines.append(f"{rank}. [{hit.source or hit.id}] {scores} {_clip(hit.text)}")
            if hit.path:
                lines.append("   via " + " → ".join(hit.path))
        else:
            # episode texts usually carry their speaker already ("Ada: ...")
            who = hit.speaker or ""
            who = f"{who}: " if who and not hit.text.startswith(f"{who}:") else ""
            lines.append(
                f"{rank}. episode {hit.time:%Y-%m-%d %H:%M} {scores} {who}{_clip(hit.text)}"
            )
        lines.extend("   fact " + _fact_line(f) for f in hit.facts[:3])
    if lines:
        verdict = "answerable" if data.answerable else "probably not in memory"
        lines.insert(0, f"confidence {data.confidence:.2f}: {verdict}")
    if not lines:
        lines.append("Nothing in memory matches this question.")
    return result("\n".join(lines), data)


def facts_result(query: str, facts: list[FactOut]) -> CallToolResult:
    lines = [f"{i}. {_fact_line(f)}" for i, f in enumerate(facts, start=1)]
    return result(
        "\n".join(lines) or "No fact in memory matches this question.",
        FactsOut(query=query, facts=facts),
    )


def entity_result(
    entity: Entity, facts: list[Fact], names: dict[str, str], near: list[Neighbor]
) -> CallToolResult:
    outs = [
        fact_out(f, None, (names.get(f.subject, f.subject), names.get(f.object, f.object)))
        for f in facts
    ]
    data = EntityOut(
        id=entity.id,
        name=entity.name,
        type=entity.type,
        aliases=list(entity.aliases),
        facts=outs,
        neighbors=[
            NeighborOut(
                id=n.id,
                kind=n.kind,
                label=n.label,
                edge_type=n.edge_type,
                direction=n.direction,
                weight=n.weight,
            )
            for n in near
        ],
    )
    kind = f" ({entity.type})" if entity.type else ""
    lines = [f"{entity.name}{kind} [{entity.id}]"]
    lines.extend("fact " + _fact_line(f) for f in outs)
    others = [n for n in data.neighbors if n.edge_type != "RELATES"]
    if others:
        lines.append("linked to: " + "; ".join(f"{n.label} ({n.kind})" for n in others[:10]))
    return result("\n".join(lines), data)


def ingest_result(
    report: IngestReport, what: str = "memory", rejected: list[RejectedOut] | None = None
) -> CallToolResult:
    data = IngestOut.model_validate(report.model_dump(), from_attributes=False)
    data.rejected = list(rejected or [])
    if data.episodes_added or data.episodes_skipped:
        text = f"Stored {data.episodes_added} episode(s)"
        if data.episodes_skipped:
            text += f", {data.episodes_skipped} already known"
    else:
        text = f"Stored {data.passages_added} {what} passage(s)"
        if data.passages_skipped:
            text += f", {data.passages_skipped} already known"
    text += f": {data.entities_added} new entities, {data.facts_added} new facts."
    if data.passages_failed:
        text += f" {data.passages_failed} passage(s) stored without facts (extraction failed)."
    if data.rejected:
        shown = "; ".join(r.message for r in data.rejected[:5])
        more = f" (and {len(data.rejected) - 5} more)" if len(data.rejected) > 5 else ""
        text += f" {len(data.rejected)} item(s) not stored: {shown}{more}."
    return result(text, data)


def delete_result(source: str, report: DeleteReport) -> CallToolResult:
    data = DeleteOut(source=source, **report.model_dump(include=set(DeleteOut.model_fields)))
    text = (
        f"Deleted source {source!r}: {data.passages} passage(s), {data.episodes} episode(s), "
        f"{data.facts} fact(s) and {data.entities} entities that only it supported."
    )
    return result(text, data)


def note_result(note: Hyperedge, names: dict[str, str]) -> CallToolResult:
    data = NoteOut(id=note.id, description=note.description, members=list(note.members))
    who = ", ".join(names.get(m, m) for m in note.members) or "no entities"
    return result(f"Noted [{note.id}] joining {who}.", data)


def stats_result(stats: Stats) -> CallToolResult:
    counts: dict[str, Any] = stats.model_dump(exclude={"namespace"})
    text = ", ".join(f"{v} {k}" for k, v in counts.items())
    return result(f"Namespace {stats.namespace!r}: {text}.", stats)
