"""``graphmem mcp``: the Typer command (registered by :mod:`graphmem.cli`).

Options resolve like ``serve``'s: the option, then ``GRAPHMEM_STORE`` / ``GRAPHMEM_NAMESPACE``,
then the default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from graphmem.errors import ConfigError
from graphmem.memory import DEFAULT_STORE_URL


def mcp_command(
    store: Annotated[
        str,
        typer.Option(
            "--store",
            envvar="GRAPHMEM_STORE",
            help="sqlite:///file.db, neo4j://host, bolt://host, falkordb://host:port",
        ),
    ] = DEFAULT_STORE_URL,
    namespace: Annotated[
        str,
        typer.Option(
            "--namespace",
            "-n",
            envvar="GRAPHMEM_NAMESPACE",
            help="the namespace of stdio (and of '*' keys over HTTP)",
        ),
    ] = "default",
    transport: Annotated[str, typer.Option(help="stdio | http (streamable HTTP)")] = "stdio",
    host: Annotated[str, typer.Option(help="interface for --transport http")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8765,
    keys: Annotated[
        Path | None,
        typer.Option(help="API key file of `graphmem serve`; needed off loopback (HTTP only)"),
    ] = None,
    extractor: Annotated[str, typer.Option(help="nlp | llm | none (for added texts)")] = "nlp",
    log_level: Annotated[str, typer.Option(help="debug | info | warning")] = "warning",
) -> None:
    """Serve memory to agents over the Model Context Protocol (stdio, or streamable HTTP)."""
    try:
        from graphmem.mcp.server import run
    except ImportError as exc:
        raise ConfigError(
            f"graphmem mcp needs the MCP SDK: pip install 'graphmem[mcp]' ({exc})"
        ) from exc
    ex: Any = extractor.strip().lower()
    if ex == "llm":
        from graphmem.cli.terminal import llm_extractor

        ex = llm_extractor()
    elif ex not in {"nlp", "none"}:  # precomputed triples describe a corpus, not an agent's texts
        raise ConfigError(f"unknown extractor {extractor!r}: use nlp, llm or none")
    mode = transport.strip().lower()
    if mode not in {"stdio", "http"}:
        raise ConfigError(f"unknown transport {transport!r}: use stdio or http")
    run(
        store,
        namespace=namespace,
        transport=mode,  # type: ignore[arg-type]
        host=host,
        port=port,
        keys=keys,
        extractor=ex,
        log_level=log_level,
    )
