"""The GraphiQL page is served from this server only, with the untouched vendored builds."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import strawberry

from graphmem_api import Settings, create_app
from graphmem_api.graphiql import FILES

ROOT = Path(__file__).resolve().parents[3]
VENDORED = ROOT / "api" / "graphmem_api" / "static" / "graphiql"
#: strawberry's page (what it would load from a CDN) -> our copy
CDN_NAMES = {
    "react.production.min.js": "react.production.min.js",
    "react-dom.production.min.js": "react-dom.production.min.js",
    "graphiql.min.js": "graphiql.min.js",
    "graphiql.min.css": "graphiql.min.css",
    "index.umd.js": "plugin-explorer.umd.js",
    "style.css": "plugin-explorer.css",
}


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" or (tag == "link" and a.get("rel") != "icon"):
            self.found.append(a)


def _get(app: Any, path: str, **headers: str) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get(path, headers=headers)

    return asyncio.run(run())


def test_the_page_and_its_files_are_same_origin_only() -> None:
    app = create_app(lambda: None, settings=Settings(graphiql=True, warm_up=False))
    for path in ("/graphiql", "/graphql"):
        r = _get(app, path, accept="text/html")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in r.headers["content-security-policy"]
        links = Links()
        links.feed(r.text)
        urls = [a.get("src") or a.get("href") or "" for a in links.found]
        assert len(urls) == 8 and not any(a.get("integrity") for a in links.found)
        for url in urls:  # relative, under graphiql/static, so served by this server
            assert re.fullmatch(r"graphiql/static/[\w.-]+", url), url
            got = _get(app, "/" + url)
            assert got.status_code == 200 and len(got.content) > 100, url
            assert "http://" not in url and "https://" not in url and not url.startswith("//")
    assert not re.search(r"https?://", _get(app, "/graphiql/static/graphiql-page.js").text)
    assert _get(app, "/graphiql/static/../../settings.py").status_code == 404
    assert _get(app, "/graphiql/static/explore.js").status_code == 404  # a fixed list only
    assert _get(app, "/graphiql/").status_code == 308
    off = create_app(lambda: None, settings=Settings(warm_up=False))
    assert _get(off, "/graphiql").status_code == 404


def test_vendored_builds_are_the_ones_strawberry_pins_with_their_licenses() -> None:
    page = Path(strawberry.__file__).parent / "static" / "graphiql.html"
    links = Links()
    links.feed(page.read_text(encoding="utf-8"))
    checked = 0
    for a in links.found:
        url, integrity = a.get("src") or a.get("href") or "", a.get("integrity")
        ours = CDN_NAMES.get(url.rsplit("/", 1)[-1])
        if ours is None or integrity is None:
            continue  # js-cookie: the page does not use it
        digest = base64.b64encode(hashlib.sha384((VENDORED / ours).read_bytes()).digest())
        assert integrity == f"sha384-{digest.decode()}", (
            f"{ours} differs from {url}: re-run tools/graphiql/vendor.sh with those versions"
        )
        checked += 1
    assert checked == len(CDN_NAMES)
    lock = json.loads((ROOT / "tools" / "graphiql" / "package-lock.json").read_text())["packages"]
    versions = dict(
        line.split(" ") for line in (VENDORED / "VERSIONS").read_text().splitlines() if line
    )
    assert versions == {name: lock[f"node_modules/{name}"]["version"] for name in versions}
    assert len(versions) == 4
    for name in FILES:
        if name.endswith(".LICENSE"):
            assert (
                "MIT" in (VENDORED / name).read_text()
                or "Permission is hereby granted" in (VENDORED / name).read_text()
            )
