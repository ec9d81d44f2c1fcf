"""The options every command shares, declared once: the store and the namespace.

Both resolve the same way everywhere (:func:`graphmem.cli.terminal.store_url`,
:func:`graphmem.cli.terminal.namespace_of`): the option, then ``GRAPHMEM_STORE`` /
``GRAPHMEM_NAMESPACE``, then the library's default (:data:`graphmem.memory.DEFAULT_STORE_URL`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from graphmem.memory import DEFAULT_STORE_URL

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="sqlite:///relative.db, sqlite:////absolute.db, neo4j://host, bolt://host, "
        f"falkordb://host:port (env GRAPHMEM_STORE; default {DEFAULT_STORE_URL}: graphmem.db "
        "in the current folder)",
    ),
]
NamespaceOpt = Annotated[
    str | None,
    typer.Option("--namespace", "-n", help="tenant / user / agent (env GRAPHMEM_NAMESPACE)"),
]
