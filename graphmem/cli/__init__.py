"""The ``graphmem`` command (the console entry ``graphmem = "graphmem.cli:main"``).

:mod:`~graphmem.cli.app` holds the Typer app and its commands; :mod:`~graphmem.cli.terminal` the
console and the settings read at the entry point; :mod:`~graphmem.cli.render` a search result as
text; :mod:`~graphmem.cli.options` the shared options; :mod:`~graphmem.cli.demo`,
:mod:`~graphmem.cli.viz` and :mod:`~graphmem.cli.mcp` one command each.
"""

from __future__ import annotations

from graphmem.cli.app import app, main

__all__ = ["app", "main"]
