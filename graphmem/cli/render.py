"""A :class:`~graphmem.models.SearchResult` as text for people (the CLI's output). Pure functions.

Everything ``--json`` carries that a reader needs is shown: passages with their line breaks and the
chain of facts that led to them, facts with when they held (an ended fact says ``ended`` and when),
episodes with speaker, time and session, and memory units (marked ended when every fact the result
holds between their members has ended).

>>> from datetime import datetime
>>> from graphmem.models import Fact
>>> validity(Fact(id="f:1", subject="e:a", predicate="lives in", object="e:b", text="",
...               valid_at=datetime(2020, 1, 10), invalid_at=datetime(2024, 3, 1)))
'since 2020-01-10, ended 2024-03-01'
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterable, Sequence

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from graphmem.models import (
    Episode,
    EpisodeHit,
    Fact,
    FactHit,
    HyperedgeHit,
    PassageHit,
    SearchResult,
    day,
    fact_wording,
    is_current,
    mixed,
    utc,
    validity,
)

__all__ = [
    "episode_text",
    "fact_chain",
    "fact_line",
    "render_result",
    "render_text",
    "unit_ended",
    "validity",
]

#: characters of a passage / an episode shown before "…"
PASSAGE_CHARS = 600
EPISODE_CHARS = 300
#: facts shown under one passage or episode, and in the result's own fact list
HIT_FACTS = 3
RESULT_FACTS = 8
INDENT = 3

_BLANK_RUNS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def fact_line(hit: FactHit) -> Text:
    """``(subject) -[predicate]-> (object)  score  validity``; an ended fact in red, marked."""
    words = fact_wording(hit.fact, hit.subject_name, hit.object_name)
    line = Text(words.text)
    line.append(f"  {hit.score:.3f}", style="dim")
    if not words.current:
        line.stylize("red")
        line.append(f"  [{words.when or 'ended'}]", style="bold red")
    elif words.when:
        line.append(f"  [{words.when}]", style="green")
    return line


def _norm(name: str) -> str:
    return " ".join(name.casefold().split())


#: facts of one hit considered when laying out its path (keeps the search tiny)
CHAIN_FACTS = 8


def fact_chain(hit: PassageHit) -> Text | None:
    """The path of ``hit`` as the chain of its facts joining the path's entities.

    ``A -[p]-> B <-[q]- C``: each hop is a fact the hit carries, in its stored direction. Path
    entities no fact of the hit joins are set apart with ``—``. ``None`` when the hit has no path.
    """
    if not hit.path:
        return None
    names = {_norm(n): n for fh in hit.facts for n in (fh.subject_name, fh.object_name)}
    names.update({_norm(n): n for n in hit.path})
    edges: dict[frozenset[str], FactHit] = {}
    for fh in hit.facts[:CHAIN_FACTS]:  # best first: the first fact for a pair wins
        pair = frozenset((_norm(fh.subject_name), _norm(fh.object_name)))
        if len(pair) == 2:
            edges.setdefault(pair, fh)
    order = [_norm(n) for n in hit.path]
    left = list(dict.fromkeys(order))
    drawn: list[str] = []
    chain = Text()
    while left:
        walk = _best_walk(left, drawn, order, edges)
        if drawn:
            # a branch off what is drawn already, or a part no fact of the hit reaches
            chain.append("; " if walk[0] in drawn else " — ", style="dim")
        drawn += walk
        left = [n for n in left if n not in walk]
        chain.append(names[walk[0]], style="bold")
        for a, b in itertools.pairwise(walk):
            fh = edges[frozenset((a, b))]
            style = "green" if is_current(fh.fact) else "red"
            arrow = (
                f" -[{fh.fact.predicate}]-> "
                if _norm(fh.subject_name) == a
                else (f" <-[{fh.fact.predicate}]- ")
            )
            chain.append(arrow, style=style)
            chain.append(names[b], style="bold")
    return chain


def _best_walk(
    wanted: list[str], drawn: list[str], order: list[str], edges: dict[frozenset[str], FactHit]
) -> list[str]:
    """The simple walk over ``edges`` covering most of ``wanted``: from a ``drawn`` node when it
    can (a branch), else shortest and from the earliest path entity.
    """
    adj: dict[str, list[str]] = {}
    for pair in edges:
        a, b = sorted(pair)
        adj.setdefault(a, []).append(b)
        adj.setdefault(b, []).append(a)
    goal = set(wanted)
    rank = {n: i for i, n in reversed(list(enumerate(order)))}

    def key(walk: list[str]) -> tuple[int, bool, int, int, int]:
        # most path entities, a branch over a new part, shortest, then in the path's own order
        covered = [rank[n] for n in walk if n in goal]
        return (
            -len(covered),
            walk[0] not in drawn,
            len(walk),
            sum(covered),
            rank.get(walk[0], len(order)),
        )

    best = [wanted[0]]
    stack = [[n] for n in dict.fromkeys([*wanted, *drawn])]
    while stack:
        walk = stack.pop()
        if key(walk) < key(best):
            best = walk
        stack.extend([*walk, nxt] for nxt in adj.get(walk[-1], []) if nxt not in walk)
    return best


def _passage_text(text: str, limit: int = PASSAGE_CHARS) -> str:
    """``text`` cut at ``limit`` characters, line breaks kept (runs of blank lines made one)."""
    cut = text[:limit].rstrip() + ("…" if len(text) > limit else "")
    cut = "\n".join(line.rstrip() for line in cut.replace("\r\n", "\n").split("\n"))
    return _BLANK_RUNS.sub("\n\n", cut)


def episode_text(episode: Episode, limit: int = EPISODE_CHARS) -> Text:
    """``speaker: text`` once, although ingest stores a turn's text with its speaker in front."""
    body = episode.text
    speaker = (episode.speaker or "").strip()
    if speaker and body.startswith(speaker + ":"):
        body = body[len(speaker) + 1 :].lstrip()
    out = Text()
    if speaker:
        out.append(speaker, style="bold")
        out.append(": ")
    out.append(_passage_text(body, limit))
    return out


def _indent(item: RenderableType) -> Padding:
    return Padding(item, (0, 0, 0, INDENT), expand=False)


def _facts_block(facts: Sequence[FactHit], limit: int) -> list[RenderableType]:
    rows: list[RenderableType] = []
    for fh in facts[:limit]:
        line = Text("fact ", style="yellow")
        line.append_text(fact_line(fh))
        rows.append(_indent(line))
    if len(facts) > limit:
        rows.append(_indent(Text(f"(+{len(facts) - limit} more facts: --json shows all)", "dim")))
    return rows


def _passage(rank: int, hit: PassageHit) -> list[RenderableType]:
    p = hit.passage
    head = Text("\n")
    head.append(f"{rank}.", style="bold cyan")
    head.append(f" relevance {hit.relevance:.2f}, score {hit.score:.4f}")
    if hit.dense_score is not None:
        head.append(f", dense {hit.dense_score:.3f}")
    head.append(f"  {p.source or p.id}", style="dim")
    if p.title and p.title != p.source:
        head.append(f"  {p.title}", style="dim")
    out: list[RenderableType] = [head, _indent(Text(_passage_text(p.text)))]
    chain = fact_chain(hit)
    if chain is not None:
        via = Text("via ", style="green")
        via.append_text(chain)
        out.append(_indent(via))
    return out + _facts_block(hit.facts, HIT_FACTS)


def _episode(hit: EpisodeHit) -> list[RenderableType]:
    ep = hit.episode
    head = Text("\n")
    head.append("episode", style="bold magenta")
    head.append(f" relevance {hit.relevance:.2f}, score {hit.score:.4f}  ")
    head.append(f"{utc(ep.time):%Y-%m-%d %H:%M}", style="dim")
    if ep.session:
        head.append(f"  session {ep.session}", style="dim")
    out: list[RenderableType] = [head, _indent(episode_text(ep))]
    out += _facts_block(hit.facts, HIT_FACTS)
    for near in hit.context:
        if near.id == ep.id:
            continue
        line = Text(f"… {utc(near.time):%Y-%m-%d %H:%M}  ", style="dim")
        line.append_text(episode_text(near, 120))
        line.stylize("dim")
        out.append(_indent(line))
    return out


def _all_facts(result: SearchResult) -> list[Fact]:
    seen: dict[str, Fact] = {}
    hits: Iterable[FactHit] = [
        *result.facts,
        *(fh for h in result.passages for fh in h.facts),
        *(fh for h in result.episodes for fh in h.facts),
    ]
    for fh in hits:
        seen.setdefault(fh.fact.id, fh.fact)
    return list(seen.values())


def unit_ended(hit: HyperedgeHit, facts: Iterable[Fact]) -> list[Fact]:
    """The ended facts between ``hit``'s members when *every* such fact in ``facts`` has ended.

    Empty when the unit still holds, or when ``facts`` says nothing about its members.
    """
    members = set(hit.hyperedge.members)
    inside = [f for f in facts if f.subject in members and f.object in members]
    if not inside or any(is_current(f) for f in inside):
        return []
    return inside


def _unit(hit: HyperedgeHit, facts: Sequence[Fact]) -> list[RenderableType]:
    line = Text("\n")
    line.append("memory unit", style="bold blue")
    line.append(f" {hit.score:.4f}  ")
    ended = unit_ended(hit, facts)
    line.append(_passage_text(hit.hyperedge.description, 300), style="red" if ended else "")
    if ended:
        ends = [utc(t) for f in ended if (t := f.invalid_at or f.expired_at) is not None]
        line.append(f"  [ended {day(max(ends))}]" if ends else "  [ended]", style="bold red")
    return [line]


def render_result(result: SearchResult) -> Group:
    """The whole result as one rich renderable: passages, episodes, facts, memory units."""
    head = Text("Q: ", style="bold")
    head.append(result.question)
    head.append(f"   ({result.mode} ranking)", style="dim")
    verdict = "answerable" if result.answerable else "probably not in memory"
    head.append(f"\nconfidence {result.confidence:.2f}: {verdict}", style="dim")
    parts: list[RenderableType] = [head]
    # one list by relevance (one scale for both kinds), never passage, episode, passage, ...
    rank = 0
    for hit in mixed(result):
        if isinstance(hit, PassageHit):
            rank += 1
            parts += _passage(rank, hit)
        else:
            parts += _episode(hit)
    if result.facts:
        parts.append(Text("\nfacts", style="bold yellow"))
        parts += _facts_block(result.facts, RESULT_FACTS)
    facts = _all_facts(result)
    for hhit in result.hyperedges:
        parts += _unit(hhit, facts)
    if not (result.passages or result.episodes or result.facts or result.hyperedges):
        parts.append(Text("\nNothing in this namespace answers the question.", style="yellow"))
    return Group(*parts)


def render_text(result: SearchResult, width: int = 100) -> str:
    """:func:`render_result` as plain text (no colour), ``width`` columns wide."""
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None, highlight=False, soft_wrap=False).print(
        render_result(result)
    )
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"
