"""The GraphiQL page of ``serve --graphiql``, at ``/graphiql`` (and ``GET /graphql`` from a browser).

Strawberry's own page loads React and GraphiQL from a CDN, so offline it never gets past
"Loading...". This one serves the very same builds (the files strawberry pins by SRI hash,
vendored from npm by ``tools/graphiql/vendor.sh`` into ``api/static/graphiql`` with their
licenses) from this server: the page references same-origin URLs only. The page carries no data
and needs no key; the queries it sends carry the key typed into its Headers tab.

>>> is_graphiql_path("/graphiql/static/graphiql.min.js"), "graphiql.min.js" in FILES
(True, True)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from functools import cache
from pathlib import Path
from typing import Any

_STATIC = Path(__file__).resolve().parent / "static"

#: served name -> media type; nothing outside this list is served
FILES: dict[str, str] = {
    "graphiql-page.css": "text/css; charset=utf-8",
    "graphiql-page.js": "text/javascript; charset=utf-8",
    "react.production.min.js": "text/javascript; charset=utf-8",
    "react-dom.production.min.js": "text/javascript; charset=utf-8",
    "graphiql.min.js": "text/javascript; charset=utf-8",
    "graphiql.min.css": "text/css; charset=utf-8",
    "plugin-explorer.umd.js": "text/javascript; charset=utf-8",
    "plugin-explorer.css": "text/css; charset=utf-8",
    "react.LICENSE": "text/plain; charset=utf-8",
    "react-dom.LICENSE": "text/plain; charset=utf-8",
    "graphiql.LICENSE": "text/plain; charset=utf-8",
    "plugin-explorer.LICENSE": "text/plain; charset=utf-8",
    "VERSIONS": "text/plain; charset=utf-8",
}

#: same origin only; GraphiQL styles its editors inline and its icons are data: URLs
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@cache
def _read(name: str) -> bytes:
    if name == "graphiql.html":
        return (_STATIC / name).read_bytes()
    folder = _STATIC if name.startswith("graphiql-page.") else _STATIC / "graphiql"
    return (folder / name).read_bytes()


def is_graphiql_path(path: str) -> bool:
    """``True`` for ``/graphiql`` and everything under ``/graphiql/``."""
    return path == "/graphiql" or path.startswith("/graphiql/")


async def send_page(send: Send) -> None:
    """The page itself (served at ``/graphiql`` and, for browsers, ``GET /graphql``)."""
    await _send(send, 200, _read("graphiql.html"), "text/html; charset=utf-8", b"no-cache")


async def serve_graphiql(scope: MutableMapping[str, Any], send: Send) -> None:
    """Answer a request for ``/graphiql`` or one of its files (GET and HEAD only)."""
    path: str = scope.get("path", "")
    if scope.get("method") not in ("GET", "HEAD"):
        await _send(send, 405, b"method not allowed", "text/plain; charset=utf-8", b"no-store")
        return
    if path == "/graphiql":
        await send_page(send)
        return
    if path == "/graphiql/":  # the page's relative links assume no trailing slash
        await send(
            {
                "type": "http.response.start",
                "status": 308,
                "headers": [(b"location", b"../graphiql"), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})
        return
    name = path.removeprefix("/graphiql/static/")
    if name == path or name not in FILES:
        await _send(send, 404, b"not found", "text/plain; charset=utf-8", b"no-store")
        return
    # The vendored builds are pinned: a browser may keep them for a day.
    await _send(send, 200, _read(name), FILES[name], b"public, max-age=86400")


async def _send(send: Send, status: int, body: bytes, media: str, cache_control: bytes) -> None:
    headers = [
        (b"content-type", media.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", cache_control),
        *_HEADERS,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
