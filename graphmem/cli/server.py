"""``graphmem serve``, ``graphmem schema`` and ``graphmem keys``: the GraphQL server's commands.

The server is its own distribution, ``graphmem-api`` (the repository's ``api/``), imported only
when ``serve`` or ``schema`` runs; without it they say how to install it. The key commands need
only :mod:`graphmem.keys`, so keys can be made for ``graphmem mcp --transport http`` too.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer

from graphmem.cli.options import NamespaceOpt, StoreOpt
from graphmem.cli.terminal import err, llm_extractor, namespace_of, store_url
from graphmem.errors import ConfigError

keys_app = typer.Typer(help="Create, list and revoke API keys (only their hashes are stored).")

#: what to run when graphmem-api is missing (from a checkout: the repository's api/ folder)
INSTALL_HINT = "pip install graphmem-api (from a checkout: pip install -e ./api)"


def graphmem_api(command: str) -> ModuleType:
    """The ``graphmem_api`` package with its ``server`` and ``schema`` modules loaded."""
    try:
        package = importlib.import_module("graphmem_api")
        importlib.import_module("graphmem_api.server")
        importlib.import_module("graphmem_api.schema")
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "graphmem_api":
            raise
        raise ConfigError(
            f"`graphmem {command}` needs the GraphQL server, the graphmem-api package: "
            + INSTALL_HINT
        ) from exc
    return package


def serve_command(
    store: StoreOpt = None,
    namespace: NamespaceOpt = None,
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    keys: Annotated[
        Path | None, typer.Option(help="API key file; without it the server is open (loopback)")
    ] = None,
    graphiql: Annotated[
        bool, typer.Option(help="serve the GraphiQL IDE on /graphiql (offline, vendored assets)")
    ] = False,
    explore: Annotated[bool, typer.Option(help="serve the graph explorer on /explore")] = True,
    allow_open: Annotated[
        bool, typer.Option(help="allow a server without keys on a non-loopback host")
    ] = False,
    extractor: Annotated[str, typer.Option(help="nlp | llm | none (for ingest jobs)")] = "nlp",
    log_level: Annotated[str, typer.Option(help="debug | info | warning")] = "info",
) -> None:
    """Serve the GraphQL API (and the explorer page) with uvicorn; SIGTERM finishes jobs first."""
    run = graphmem_api("serve").server.serve
    ex: Any = llm_extractor() if extractor == "llm" else extractor
    run(
        store_url(store),
        host=host,
        port=port,
        keys=keys,
        graphiql=graphiql,
        explorer=explore,
        allow_open=allow_open,
        extractor=ex,
        namespace=namespace_of(namespace),
        log_level=log_level,
    )


def schema_command() -> None:
    """Print the GraphQL schema (SDL), as kept in schema/schema.graphql."""
    print(graphmem_api("schema").schema.schema.as_str())


KeyFile = Annotated[Path, typer.Option("--file", help="the API key file (JSON)")]


@keys_app.command("create")
def keys_create(
    file: KeyFile,
    namespace: Annotated[
        list[str], typer.Option("--namespace", "-n", help="repeatable; '*' for every namespace")
    ],
    key_id: Annotated[str | None, typer.Option("--id")] = None,
    read_only: Annotated[bool, typer.Option("--read-only")] = False,
    description: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Add a key; prints it once (only its hash is stored)."""
    from graphmem.keys import PEPPER_ENV, create_key

    token = create_key(
        file,
        namespace,
        key_id=key_id,
        read_only=read_only,
        description=description,
        pepper=os.environ.get(PEPPER_ENV, "").encode(),
    )
    print(token)
    err.print("(shown once: only its hash is stored)")


@keys_app.command("list")
def keys_list(file: KeyFile) -> None:
    """Key ids, namespaces and modes (never secrets)."""
    from graphmem.keys import read_keys

    for key in read_keys(file):
        mode = "read-only" if key.read_only else "read-write"
        print(f"{key.id}\t{','.join(key.namespaces)}\t{mode}\t{key.created_at}")


@keys_app.command("revoke")
def keys_revoke(file: KeyFile, key_id: Annotated[str, typer.Option("--id")]) -> None:
    """Remove a key."""
    from graphmem.keys import revoke_key

    if not revoke_key(file, key_id):
        raise ConfigError(f"no key {key_id!r} in {file}")
