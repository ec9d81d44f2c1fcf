"""What ``graphmem ingest`` runs and says: the ingest itself, where a Ctrl-C stopped it, and the
files it skipped, failed or warns about."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from graphmem.cli.terminal import err

if TYPE_CHECKING:
    from graphmem.memory import FileProblem, Memory
    from graphmem.models import IngestReport

#: the exit code of a command stopped by SIGINT (128 + 2), as shells report it
INTERRUPTED = 130


class _Read:
    """The items given out so far (the ingest reads ahead of what it has stored)."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items, self.count = items, 0

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            self.count += 1
            yield item


def run_ingest(
    mem: Memory,
    path: Path,
    *,
    episodes: bool,
    batch_size: int,
    source_prefix: str,
    follow_symlinks: bool,
    problems: list[FileProblem],
) -> IngestReport:
    """Ingest ``path`` into ``mem``; on Ctrl-C say how far it got and exit with code 130."""
    from graphmem.memory import read_documents, read_episodes

    unit = "episodes" if episodes else "passages"
    before = getattr(mem.stats(), unit)
    if episodes:
        read = _Read(read_episodes(path))
    else:
        read = _Read(
            read_documents(
                path,
                source_prefix=source_prefix,
                problems=problems,
                follow_symlinks=follow_symlinks,
            )
        )
    try:
        if episodes:
            return mem.add_episodes(read, batch_size=batch_size, progress=True)
        return mem.add_many(read, batch_size=batch_size, progress=True, replace_sources=True)
    except KeyboardInterrupt:
        try:  # the batch in flight was rolled back; the committed ones stay
            stored = f"{getattr(mem.stats(), unit) - before} {unit[:-1]}(s) of this run are stored"
        except Exception:  # a store busy mid-write must not hide the message
            stored = f"the {unit} of the batches committed so far are stored"
        err.print(
            f"\n[yellow]interrupted:[/yellow] {stored} ({read.count} document(s) read; the batch "
            "in flight was not stored). Run the same command again to resume: what is stored is "
            "skipped."
        )
        raise typer.Exit(INTERRUPTED) from None


def print_problems(problems: list[FileProblem]) -> int:
    """Print each file left out or warned about; the number that failed."""
    colours = {"failed": "red", "skipped": "yellow", "warning": "yellow"}
    for problem in problems:
        colour = colours[problem.status]
        err.print(
            f"[{colour}]{problem.status}[/{colour}] {escape(problem.path)}: "
            f"{escape(problem.reason)}"
        )
    return sum(1 for p in problems if p.status == "failed")


def nothing_deleted(mem: Memory, source: str | None, prefix: str | None) -> None:
    """Say that a delete matched no source, suggest stored sources ending with the name given,
    and exit with code 1."""
    if source is not None:
        near = [s for s in mem.sources() if s.endswith(source)]
        said = f"no source {source!r} in namespace {mem.namespace!r} (sources match exactly)"
        if near:
            shown = ", ".join(repr(s) for s in near[:10])
            said += f"; stored sources ending with it: {shown}"
    else:
        said = f"no stored source starts with {prefix!r} in namespace {mem.namespace!r}"
    err.print(f"[red]nothing deleted:[/red] {escape(said)}")
    raise typer.Exit(1)
