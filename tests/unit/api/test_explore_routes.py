"""The explorer's static routes, and that the API app ``graphmem serve`` runs serves them."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from graphmem_api.explore import CSP, explore_app, with_explorer


def _get(app: object, path: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get(path)

    return asyncio.run(go())


def test_page_and_its_files_are_served_with_a_strict_policy() -> None:
    page = _get(explore_app(), "/explore")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP.split("style-src")[0]
    assert page.headers["x-content-type-options"] == "nosniff"
    # Every script and stylesheet the page names is served from here, none from elsewhere.
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert refs and all(r.startswith("explore/static/") for r in refs), refs
    for ref in refs:
        got = _get(explore_app(), "/" + ref)
        assert got.status_code == 200, ref
        assert len(got.content) > 100
    assert (
        "cytoscape" in _get(explore_app(), "/explore/static/cytoscape.min.js").text[:2000].lower()
    )


@pytest.mark.parametrize(
    "path",
    ["/explore/static/nope.js", "/explore/static/..%2Fexplore.py", "/explore/static/explore.html"],
)
def test_only_the_listed_files_are_served(path: str) -> None:
    assert _get(explore_app(), path).status_code == 404


def test_trailing_slash_redirects_to_the_page() -> None:
    got = _get(explore_app(), "/explore/")
    assert got.status_code == 308 and got.headers["location"] == "../explore"


def test_with_explorer_passes_everything_else_through() -> None:
    async def inner(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        await send({"type": "http.response.start", "status": 418, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"inner"})  # type: ignore[operator]

    app = with_explorer(inner)
    assert _get(app, "/graphql").status_code == 418
    assert _get(app, "/explorer-not").status_code == 418
    assert _get(app, "/explore").status_code == 200


def test_the_served_api_app_routes_explore() -> None:
    """``graphmem serve``'s app answers /explore (needs the wiring in api/app.py)."""
    from graphmem_api.server import build_app

    app = build_app(memory=lambda: None, host="127.0.0.1", access_log=False)
    got = _get(app, "/explore")
    assert got.status_code == 200, got.text[:200]
    assert "graphmem explorer" in got.text
