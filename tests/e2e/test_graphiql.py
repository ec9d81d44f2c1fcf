"""``serve --graphiql`` in a real headless Chromium with every request off this server refused.

The page used to load React and GraphiQL from a CDN and, offline, showed "Loading..." forever.
Here the browser may reach 127.0.0.1 only (Playwright aborts anything else): the page must
render GraphiQL, load the schema, and run a query against a key-protected server.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphmem import Memory
from graphmem.keys import create_key

from support.api import HashEmbedder, free_port

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    from graphmem_api.server import build_app, make_server

    tmp = tmp_path_factory.mktemp("graphiql")
    key = create_key(tmp / "keys.json", ["default"], key_id="ui")
    mem = Memory(f"sqlite:///{tmp / 'g.db'}", embedder=HashEmbedder(), extractor=None)  # type: ignore[arg-type]
    mem.add_many([{"text": "Ada Lovelace wrote the first program.", "source": "s1"}])
    port = free_port()
    app = build_app(memory=mem, keys=tmp / "keys.json", graphiql=True, access_log=False)
    server = make_server(app, host="127.0.0.1", port=port, log_level="warning")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.05)
    yield url, key
    server.should_exit = True
    thread.join(60)
    mem.close()


def _wait(pg: Any, predicate: str, timeout: float = 30.0) -> None:
    # Not wait_for_function: it evaluates with eval, which the page's CSP forbids.
    deadline = time.monotonic() + timeout
    while not pg.evaluate(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        time.sleep(0.05)


def test_graphiql_works_with_no_network(served: tuple[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    url, key = served
    assert Path(CHROMIUM).exists(), "needs Debian's chromium: apt-get install -y chromium"
    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context()

            def only_here(route: Any) -> None:
                if route.request.url.startswith(url):
                    route.continue_()
                else:  # the network is gone: nothing but this server answers
                    outside.append(route.request.url)
                    route.abort()

            context.route("**/*", only_here)
            pg = context.new_page()
            pg.on("pageerror", lambda exc: errors.append(str(exc)))
            pg.goto(url + "/graphiql")
            # GraphiQL rendered (not "Loading..."), and it loaded the schema (doc explorer).
            _wait(pg, "() => !!document.querySelector('.graphiql-editors')")
            assert "Loading..." not in pg.inner_text("#graphiql")
            # The query editor holds our example; run it with the key in the Headers tab.
            pg.get_by_text("Headers", exact=True).click()
            headers = pg.locator(".graphiql-editor-tool .CodeMirror").last
            headers.click()
            pg.keyboard.type(json.dumps({"Authorization": f"Bearer {key}"}))
            pg.locator(".graphiql-execute-button").click()
            _wait(
                pg,
                "() => document.querySelector('.result-window')"
                "?.innerText.includes('Ada Lovelace')",
            )
        finally:
            browser.close()
    assert outside == [], outside
    assert errors == [], errors
