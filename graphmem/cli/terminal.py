"""What the command-line tools share: the consoles, the store and namespace they open, printing.

Used by :mod:`graphmem.cli`, :mod:`graphmem.cli.demo` and :mod:`graphmem.cli.viz`; it imports none
of them, so the commands can register each other without import circles. The environment is read
here only when a command runs (an option first, then ``GRAPHMEM_STORE`` / ``GRAPHMEM_NAMESPACE``,
then the default: ``sqlite:///graphmem.db``, in the current folder). Read-only commands open the
store with :func:`open_existing`, which never creates one.

>>> store_url("sqlite:///x.db")
'sqlite:///x.db'
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from graphmem.errors import ConfigError, InputError, NotFound
from graphmem.memory import DEFAULT_STORE_URL, make_extractor
from graphmem.models import SearchResult, Stats
from graphmem.timeparse import parse_iso

if TYPE_CHECKING:
    from graphmem.memory import Memory

console = Console()
# soft_wrap: an error line stays one line (a grep-able message), whatever the terminal width
err = Console(stderr=True, soft_wrap=True)


def store_url(store: str | None) -> str:
    """The store to open: the option, else ``GRAPHMEM_STORE``, else the default file."""
    return store or os.environ.get("GRAPHMEM_STORE") or DEFAULT_STORE_URL


def namespace_of(namespace: str | None) -> str:
    """The namespace to use: the option, else ``GRAPHMEM_NAMESPACE``, else ``default``.

    Checked here, before any store is opened: a bad name is a :class:`ConfigError`.
    """
    from graphmem.ids import check_namespace

    name = namespace or os.environ.get("GRAPHMEM_NAMESPACE") or "default"
    try:
        return check_namespace(name)
    except ValueError as exc:
        raise ConfigError(f"--namespace: {exc}") from None


def open_memory(store: str | None, namespace: str | None, extractor: Any = "nlp") -> Memory:
    """A :class:`~graphmem.memory.Memory` over the resolved store and namespace (created if new)."""
    from graphmem.memory import Memory

    ns = namespace_of(namespace)
    return Memory(store_url(store), extractor=extractor, namespace=ns)


def is_empty(stats: Stats) -> bool:
    """Nothing stored in the namespace (no passage, episode, entity, fact or hyperedge)."""
    counts = (stats.passages, stats.episodes, stats.entities, stats.facts, stats.hyperedges)
    return not any(counts)


def empty_hint(url: str, namespace: str, why: str) -> str:
    """The one line a read-only command prints when there is nothing to read."""
    where = f" --store {url}" if url != DEFAULT_STORE_URL else ""
    if namespace != "default":
        where += f" -n {namespace}"
    return f"empty store: {why}; run graphmem ingest PATH{where} first"


def open_existing(
    store: str | None, namespace: str | None, extractor: Any = None, *, allow_empty: bool = False
) -> Memory:
    """The Memory of a read-only command: never creates a store.

    A missing SQLite file, or (unless ``allow_empty``) an empty namespace, prints
    :func:`empty_hint` on stderr and exits with code 1.
    """
    from graphmem.memory import Memory

    url, ns = store_url(store), namespace_of(namespace)
    try:
        mem = Memory(url, extractor=extractor, namespace=ns, create=False)
    except NotFound as exc:
        err.print(escape(empty_hint(url, ns, str(exc))))
        raise typer.Exit(1) from None
    if is_empty(mem.stats()):
        err.print(escape(empty_hint(url, ns, f"nothing is stored in namespace {ns!r} of {url}")))
        if not allow_empty:
            mem.close()
            raise typer.Exit(1)
    return mem


def parse_between(
    between: tuple[str, str] | None,
) -> tuple[datetime | None, datetime | None] | None:
    """``--between START END`` as datetimes (``-`` or an empty string: that end is open), read
    as every surface reads a time (:func:`graphmem.timeparse.parse_iso`: UTC when no zone).

    >>> parse_between(("2021-01-01", "-"))
    (datetime.datetime(2021, 1, 1, 0, 0, tzinfo=datetime.timezone.utc), None)
    """
    if between is None:
        return None
    ends: list[datetime | None] = []
    for name, text in zip(("START", "END"), between, strict=True):
        if text.strip() in {"", "-"}:
            ends.append(None)
            continue
        try:
            ends.append(parse_iso(text, name))
        except InputError:
            raise ConfigError(
                f"--between: {name} {text!r} is not an ISO 8601 date or time "
                "(e.g. 2021-01-01 or 2021-01-01T09:30; '-' for an open end)"
            ) from None
    start, end = ends
    if start is not None and end is not None and start > end:
        raise ConfigError(f"--between: START {between[0]} is after END {between[1]}")
    return start, end


def help_width() -> None:
    """Help as wide as the terminal; 120 columns when output is not a terminal and COLUMNS is
    unset (rich would cut it at 80)."""
    import typer.rich_utils

    if os.environ.get("TERMINAL_WIDTH") or os.environ.get("COLUMNS") or sys.stdout.isatty():
        return
    typer.rich_utils.MAX_WIDTH = 120


def print_report(report: dict[str, Any]) -> None:
    """An ingest report as a table, LLM usage (tokens, calls, cost) included."""
    table = Table(title="ingest", show_header=False)
    usage = report.pop("usage", {}) or {}
    for key, value in report.items():
        if value not in (0, 0.0, {}, None):
            table.add_row(key, f"{value:.2f}" if isinstance(value, float) else str(value))
    for key, value in usage.items():
        if value:
            shown = f"{value:.4f}" if key == "cost_usd" else f"{value:,.0f}"
            table.add_row(f"llm {key}", shown)
    console.print(table)


def print_result(result: SearchResult) -> None:
    """Answer passages with scores and the facts that linked them, then episodes and units."""
    from graphmem.cli.render import render_result

    console.print(render_result(result))


def llm_extractor(**options: Any) -> Any:
    """The LLM extractor of the ``GRAPHMEM_LLM_*`` variables, overridden by the options given."""
    return make_extractor("llm", llm=options, env=os.environ)
