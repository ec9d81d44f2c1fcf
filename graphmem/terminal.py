"""What the command-line tools share: the consoles, the store and namespace they open, printing.

Used by :mod:`graphmem.cli`, :mod:`graphmem.demo` and :mod:`graphmem.viz.cli`; it imports none
of them, so the commands can register each other without import circles. The environment is read
here only when a command runs (an option first, then ``GRAPHMEM_STORE`` / ``GRAPHMEM_NAMESPACE``,
then the default).

>>> store_url("sqlite:///x.db")
'sqlite:///x.db'
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from graphmem.models import SearchResult

if TYPE_CHECKING:
    from graphmem.memory import Memory

console = Console()
err = Console(stderr=True)


def store_url(store: str | None) -> str:
    """The store to open: the option, else ``GRAPHMEM_STORE``, else the default file."""
    return store or os.environ.get("GRAPHMEM_STORE") or "sqlite:///graphmem.db"


def namespace_of(namespace: str | None) -> str:
    """The namespace to use: the option, else ``GRAPHMEM_NAMESPACE``, else ``default``."""
    return namespace or os.environ.get("GRAPHMEM_NAMESPACE") or "default"


def open_memory(store: str | None, namespace: str | None, extractor: Any = "nlp") -> Memory:
    """A :class:`~graphmem.memory.Memory` over the resolved store and namespace."""
    from graphmem.memory import Memory

    return Memory(store_url(store), extractor=extractor, namespace=namespace_of(namespace))


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
    from graphmem.render import render_result

    console.print(render_result(result))


def llm_settings(**options: Any) -> Any:
    """``GRAPHMEM_LLM_*`` variables, overridden by the options that were given."""
    from graphmem.extract.settings import LLMSettings

    return LLMSettings.from_env(os.environ).merged(**options)
