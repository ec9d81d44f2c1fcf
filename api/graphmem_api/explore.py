"""The graph explorer page at ``/explore``: static files only; every datum comes from ``/graphql``.

The page (``api/static/explore.html`` + ``explore.js``/``.css``) reuses the drawing code of the
HTML export (``graphmem/viz/static``: cytoscape.js vendored from npm, ``graphmem-graph.js``/
``.css``), so nothing is loaded from a CDN. The page carries no data and needs no API key; the
GraphQL calls it makes send the key typed into its key field as ``Authorization: Bearer``.

>>> from starlette.applications import Starlette
>>> app = Starlette(routes=explore_routes())
>>> sorted(r.path for r in app.routes)
['/explore', '/explore/', '/explore/static/{name}']
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

_HERE = Path(__file__).resolve().parent / "static"

#: served name -> (where it lives, media type); nothing outside this list is served
_FILES: dict[str, tuple[str, str]] = {
    "explore.html": ("api", "text/html; charset=utf-8"),
    "explore.js": ("api", "text/javascript; charset=utf-8"),
    "explore.css": ("api", "text/css; charset=utf-8"),
    "graphmem-graph.js": ("viz", "text/javascript; charset=utf-8"),
    "graphmem-graph.css": ("viz", "text/css; charset=utf-8"),
    "cytoscape.min.js": ("viz", "text/javascript; charset=utf-8"),
    "cytoscape.LICENSE": ("viz", "text/plain; charset=utf-8"),
}

#: the page talks to its own origin only; no inline script, no framing
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@cache
def _read(name: str) -> bytes:
    where, _ = _FILES[name]
    if where == "api":
        return (_HERE / name).read_bytes()
    return resources.files("graphmem.viz.static").joinpath(name).read_bytes()


def _file(name: str) -> Response:
    return Response(_read(name), media_type=_FILES[name][1], headers=_HEADERS)


async def explore_page(request: Request) -> Response:
    """``GET /explore``: the page."""
    return _file("explore.html")


async def explore_slash(request: Request) -> Response:
    """``GET /explore/``: to ``/explore`` (the page's relative links assume no trailing slash)."""
    return RedirectResponse("../explore", status_code=308)


async def explore_static(request: Request) -> Response:
    """``GET /explore/static/{name}``: one of the page's files (a fixed list)."""
    name = str(request.path_params["name"])
    if name not in _FILES or name == "explore.html":
        return PlainTextResponse("not found", status_code=404, headers=_HEADERS)
    return _file(name)


def explore_routes() -> list[BaseRoute]:
    """The explorer's routes, to add to the API's Starlette app (``routes=[..., *explore_routes()]``)."""
    return [
        Route("/explore", explore_page, methods=["GET", "HEAD"]),
        Route("/explore/", explore_slash, methods=["GET", "HEAD"]),
        Route("/explore/static/{name}", explore_static, methods=["GET", "HEAD"]),
    ]


@cache
def explore_app() -> Any:
    """A Starlette app serving only the explorer's routes (one instance per process).

    Wiring into another ASGI app: send paths for which :func:`is_explore_path` holds to it.
    """
    from starlette.applications import Starlette

    return Starlette(routes=explore_routes())


def is_explore_path(path: str) -> bool:
    """``True`` for ``/explore`` and everything under ``/explore/``."""
    return path == "/explore" or path.startswith("/explore/")


def with_explorer(app: Any) -> Any:
    """``app`` (any ASGI app) with ``/explore`` served in front of it; lifespan and the rest pass through."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and is_explore_path(scope.get("path", "")):
            await explore_app()(scope, receive, send)
        else:
            await app(scope, receive, send)

    return asgi
