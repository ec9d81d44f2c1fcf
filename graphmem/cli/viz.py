"""``graphmem viz "question" -o answer.html [--png answer.png]``: draw the subgraph behind an answer.

Registered in :mod:`graphmem.cli` with ``app.command("viz")(viz_command)``; the store and
namespace resolve like every other command (option, then ``GRAPHMEM_STORE`` /
``GRAPHMEM_NAMESPACE``, then the default).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from graphmem.cli.options import NamespaceOpt, StoreOpt
from graphmem.cli.terminal import console, open_existing


def viz_command(
    question: Annotated[str, typer.Argument(help="the question")],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="the HTML file to write (self-contained, opens offline)"
        ),
    ] = Path("answer.html"),
    png: Annotated[
        Path | None,
        typer.Option("--png", help="also write a static PNG here (for places without JavaScript)"),
    ] = None,
    k: Annotated[int, typer.Option(min=1, max=100, help="answer passages to draw")] = 5,
    store: StoreOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Draw the subgraph behind an answer: seeds, PageRank scores, facts on the paths, passages."""
    # an empty store exits 1 here, before any page is written
    with open_existing(store, namespace) as mem:
        ex = mem.explain(question, k=k)
    output.parent.mkdir(parents=True, exist_ok=True)
    ex.to_html(output)
    console.print(
        f"wrote {output} ({output.stat().st_size / 1024:.0f} KB): {len(ex.nodes)} nodes, "
        f"{len(ex.edges)} edges, {len(ex.seeds)} seed entities, {len(ex.result.passages)} passages",
        markup=False,
    )
    if png is not None:
        png.parent.mkdir(parents=True, exist_ok=True)
        ex.to_png(png)
        console.print(f"wrote {png} ({png.stat().st_size / 1024:.0f} KB)", markup=False)
