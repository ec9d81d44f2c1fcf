"""The /explore page in a real headless Chromium (Debian's ``chromium``), driven by Playwright.

The real server (uvicorn on 127.0.0.1, a free port) serves a temporary SQLite store holding the
demo corpus. Playwright's Python package drives Debian's browser through ``executable_path``; no
browser is downloaded (never ``playwright install``). A screenshot lands in ``artifacts/``.
"""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphmem import Memory
from graphmem.ingest.hyperedges import HyperSettings
from graphmem.ingest.sources import read_documents

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CORPUS = ROOT / "examples/data/demo_corpus.jsonl"
QUESTIONS = [json.loads(line) for line in (ROOT / "examples/data/demo_questions.jsonl").open()]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>" onmouseover="window.__xss=3'


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``graphmem serve``'s app under uvicorn on a thread; stopped with ``should_exit``."""

    def __init__(self, memory: Memory, keys: Path | None = None) -> None:
        from graphmem_api.explore import with_explorer
        from graphmem_api.server import build_app, make_server

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # A Memory of its own over the same store (the app closes it on shutdown); same model.
        own = Memory(memory.store.url, embedder=memory.embedder, extractor=None)
        app = build_app(memory=own, host="127.0.0.1", keys=keys, access_log=False)
        # with_explorer is a no-op in front of an app that serves /explore itself.
        self.server = make_server(
            with_explorer(app), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.thread = threading.Thread(
            target=self.server.run, name="explorer-test-server", daemon=True
        )

    def start(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the test server did not become ready in 60 s")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture(scope="module")
def memory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Memory]:
    path = tmp_path_factory.mktemp("explorer") / "demo.db"
    # turns' sentences become units (off by default), so an ended unit is there to mark
    units = HyperSettings(from_turns=True)
    with Memory(f"sqlite:///{path}", extractor="nlp", hyperedges=units) as mem:
        mem.add_many(read_documents(CORPUS))
        yield mem


@pytest.fixture(scope="module")
def server(memory: Memory) -> Iterator[Server]:
    srv = Server(memory).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), (
        "needs Debian's chromium: apt-get install -y chromium chromium-driver"
    )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Watch:
    """What a page did that it should not: script errors, dialogs, failed requests."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, Watch]]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    watch = Watch()
    pg.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    pg.on(
        "console",
        lambda msg: (
            watch.errors.append(msg.text)
            if msg.type == "error"
            and "favicon" not in msg.text
            and "Failed to load resource" not in msg.text
            else None
        ),
    )
    pg.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))
    pg.on("request", lambda r: watch.requests.append(r.url))
    yield pg, watch
    context.close()


def _wait(pg: Any, predicate: str, timeout: float = 30.0) -> None:
    """Poll a JS arrow function until it returns true.

    Not ``page.wait_for_function``: that evaluates its predicate with ``eval``, which the page's
    Content-Security-Policy forbids (as it should); ``evaluate`` goes through the debugger.
    """
    deadline = time.monotonic() + timeout
    while not pg.evaluate(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        time.sleep(0.02)


def _ask(pg: Any, question: str, namespace: str = "") -> float:
    """Type and submit a question; the milliseconds until the first answer (or message) shows."""
    pg.fill("#question", question)
    pg.fill("#namespace", namespace)
    t0 = time.perf_counter()
    pg.click("#submit")
    _wait(
        pg,
        "() => ['answered', 'no-hits', 'error', 'down'].includes(document.body.dataset.state)"
        " && !document.getElementById('submit').disabled",
    )
    return (time.perf_counter() - t0) * 1e3


def _canvas_painted(pg: Any) -> int:
    """How many non-transparent pixels cytoscape painted on its canvases."""
    return int(
        pg.evaluate(
            """() => {
              let painted = 0;
              for (const c of document.querySelectorAll('#cy canvas')) {
                if (!c.width || !c.height) continue;
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                for (let i = 3; i < d.length; i += 16) if (d[i] > 0) painted++;
              }
              return painted;
            }"""
        )
    )


def test_search_shows_passages_draws_the_graph_and_opens_a_node(
    server: Server, memory: Memory, page: tuple[Any, Watch]
) -> None:
    pg, watch = page
    pg.goto(server.url + "/explore")
    _wait(pg, "() => document.getElementById('store-info').textContent.includes('passages')")
    assert "34 passages" in pg.text_content("#store-info")

    latencies = []
    for q in QUESTIONS[:3]:
        ms = _ask(pg, q["question"])
        assert pg.get_attribute("body", "data-state") == "answered"
        latencies.append(ms)
        sources = pg.eval_on_selector_all(
            "#passages li.passage .source", "els => els.map(e => e.textContent)"
        )
        assert set(q["gold_passage_ids"]) <= set(sources), (q["id"], sources)
        in_page = pg.evaluate("window.graphmemTiming.submitToAnswerMs")
        print(f"explorer first answer {q['id']}: {ms:.0f} ms (in-page {in_page:.0f} ms)")
    print(
        f"explorer first answer: median {statistics.median(latencies):.0f} ms over {len(latencies)} questions"
    )

    # The last question's graph: drawn, with nodes, painted on canvas.
    _wait(pg, "() => document.body.dataset.graph === 'drawn'")
    pg.wait_for_timeout(300)
    n_nodes = pg.evaluate("window.graphmemCy.nodes().length")
    assert n_nodes >= 5
    assert _canvas_painted(pg) > 500
    first = pg.text_content("#passages li.passage .passage-text")
    assert first and first in {
        h.passage.text[: len(first)] for h in memory.search(QUESTIONS[2]["question"]).passages
    }

    # Click the seed entity with the highest seed weight, where it is drawn.
    target = pg.evaluate(
        """() => {
          const cy = window.graphmemCy;
          const seeds = cy.nodes('.seed').sort((a, b) => b.data('seedw') - a.data('seedw'));
          const n = seeds.length ? seeds[0] : cy.nodes('.entity')[0];
          const box = document.getElementById('cy').getBoundingClientRect();
          const p = n.renderedPosition();
          return {id: n.id(), label: n.data('label'), x: box.left + p.x, y: box.top + p.y};
        }"""
    )
    pg.mouse.click(target["x"], target["y"])
    pg.wait_for_selector("#details .remote-neighbours li", timeout=15_000)
    assert pg.text_content("#details .node-title") == target["label"]
    facts_shown = pg.eval_on_selector_all(
        "#details .remote-facts li", "els => els.map(e => e.textContent)"
    )
    stored = [n.label for n in memory.neighbors(target["id"]) if n.edge_type == "RELATES"]
    assert stored, "a seed entity has facts"
    assert any(s in f for s in stored for f in facts_shown), (facts_shown, stored)

    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "explorer.png"))
    assert watch.errors == [] and watch.dialogs == []
    assert all(u.startswith(server.url) for u in watch.requests), watch.requests


def test_a_question_with_html_is_shown_as_text(server: Server, page: tuple[Any, Watch]) -> None:
    pg, watch = page
    pg.goto(server.url + "/explore")
    _ask(pg, "Which river flows through Port Adley? " + XSS)
    assert pg.text_content("#asked") == "Q: Which river flows through Port Adley? " + XSS
    assert (
        pg.evaluate("document.querySelectorAll('#asked *, #status img, #passages img').length") == 0
    )
    pg.hover("#asked")
    pg.wait_for_timeout(200)
    assert pg.evaluate("window.__xss") is None
    assert watch.dialogs == [] and watch.errors == []


def test_empty_namespace_and_no_hits_say_so(server: Server, page: tuple[Any, Watch]) -> None:
    pg, _ = page
    pg.goto(server.url + "/explore")
    _wait(pg, "() => document.body.dataset.state !== 'loading'")
    pg.fill("#namespace", "nobody-home")
    pg.dispatch_event("#namespace", "change")
    _wait(pg, "() => document.body.dataset.state === 'empty'")
    assert "The store is empty" in pg.text_content("#status")
    _ask(pg, "Which river flows through Port Adley?", namespace="nobody-home")
    assert pg.get_attribute("body", "data-state") == "no-hits"
    assert "No passage answers this question" in pg.text_content("#status")
    assert "No graph" in pg.text_content("#cy")


def test_a_server_that_went_down_is_reported(memory: Memory, page: tuple[Any, Watch]) -> None:
    pg, _ = page
    srv = Server(memory).start()
    try:
        pg.goto(srv.url + "/explore")
        _wait(pg, "() => document.body.dataset.state === 'ready'")
    finally:
        srv.stop()
    _ask(pg, "Who founded Corvane Optics?")
    assert pg.get_attribute("body", "data-state") == "down"
    assert "Cannot reach the graphmem server" in pg.text_content("#status")


def test_api_key_field_is_sent_and_a_wrong_key_is_reported(
    memory: Memory, page: tuple[Any, Watch], tmp_path: Path
) -> None:
    from graphmem.keys import create_key

    keys = tmp_path / "keys.json"
    token = create_key(keys, ["default"], key_id="explorer")
    srv = Server(memory, keys=keys).start()
    pg, _ = page
    try:
        pg.goto(srv.url + "/explore")
        _wait(pg, "() => document.body.dataset.state === 'error'")
        assert "API key" in pg.text_content("#status")
        pg.fill("#api-key", token)
        pg.dispatch_event("#api-key", "change")
        _wait(pg, "() => document.body.dataset.state === 'ready'")
        _ask(pg, str(QUESTIONS[0]["question"]))
        assert pg.get_attribute("body", "data-state") == "answered"
        pg.fill("#api-key", token[:-4] + "abcd")
        _ask(pg, str(QUESTIONS[0]["question"]))
        assert pg.get_attribute("body", "data-state") == "error"
        assert "API key" in pg.text_content("#status")
    finally:
        srv.stop()


def test_the_html_export_opens_offline_and_draws(
    memory: Memory, page: tuple[Any, Watch], tmp_path: Path
) -> None:
    """``graphmem viz``'s file in Chromium with every network request refused: it still draws."""
    from graphmem.viz import explain

    ex = explain(memory, str(QUESTIONS[0]["question"]) + " " + XSS, k=5)
    out = tmp_path / "answer.html"
    ex.to_html(out)
    pg, watch = page
    blocked: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    pg.route("**/*", route)
    pg.goto(out.as_uri())
    _wait(pg, "() => window.graphmemCy && window.graphmemCy.nodes().length > 0")
    pg.wait_for_timeout(300)
    assert pg.evaluate("window.graphmemCy.nodes().length") == len(ex.nodes)
    assert pg.evaluate("window.graphmemCy.edges().length") == len(ex.edges)
    assert _canvas_painted(pg) > 500
    assert pg.text_content("#question") == ex.question
    assert pg.evaluate("window.__xss") is None
    assert pg.eval_on_selector_all("#passages li.passage", "els => els.length") == len(
        ex.result.passages
    )
    # Clicking a passage in the list opens its details, facts included.
    pg.click("#passages li.passage")
    assert pg.text_content("#details .node-title").startswith("#1")
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "viz-export.png"))
    assert blocked == [] and watch.errors == [] and watch.dialogs == []
    assert watch.requests == [out.as_uri()]


# ------------------------------------------------------------------------------ episodes

EPISODES_FILE = ROOT / "tests/data/temporal_episodes.jsonl"
EPISODE_ROWS = [
    {k: r[k] for k in ("session", "time", "speaker", "text")}
    for r in (json.loads(line) for line in EPISODES_FILE.open(encoding="utf-8"))
    if r["type"] == "episode"
]


@pytest.fixture(scope="module")
def episodic_server(memory: Memory) -> Iterator[Server]:
    """The same store with episodes only in namespace "temporal" (and one hostile turn in "xss")."""
    memory.add_episodes(EPISODE_ROWS, namespace="temporal")
    memory.add_episode(XSS, time="2024-01-01T10:00", speaker="Mallory " + XSS, namespace="xss")
    srv = Server(memory).start()
    yield srv
    srv.stop()


def _minute(value: Any) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def test_episodes_and_facts_with_validity_are_shown(
    episodic_server: Server, memory: Memory, page: tuple[Any, Watch]
) -> None:
    from graphmem.cli.render import validity

    pg, watch = page
    pg.goto(episodic_server.url + "/explore")
    _wait(pg, "() => document.body.dataset.state !== 'loading'")
    pg.fill("#namespace", "temporal")
    pg.dispatch_event("#namespace", "change")
    _wait(pg, "() => document.getElementById('store-info').textContent.includes('temporal')")
    stats = memory.stats("temporal")
    assert f"{stats.episodes} episodes" in pg.text_content("#store-info")
    assert pg.get_attribute("body", "data-state") == "ready"  # not "The store is empty"

    question = "Where does Ada live?"
    _ask(pg, question, namespace="temporal")
    assert pg.get_attribute("body", "data-state") == "answered"
    assert "No passage answers" not in pg.text_content("#status")
    result = memory.search(question, namespace="temporal")
    assert result.episodes and not result.passages

    # Episodes: speaker once, time, session, text, each with its facts and their validity.
    shown = pg.eval_on_selector_all(
        "#episodes li.episode",
        """els => els.map(e => ({
            id: e.dataset.id,
            time: e.querySelector('.episode-time').textContent,
            session: e.querySelector('.session') ? e.querySelector('.session').textContent : null,
            text: e.querySelector('.episode-text').textContent,
            facts: [...e.querySelectorAll('li.fact')].map(f => ({
              id: f.dataset.fact, ended: f.classList.contains('ended'), text: f.textContent}))}))""",
    )
    assert [s["id"] for s in shown] == [h.episode.id for h in result.episodes]
    for s, h in zip(shown, result.episodes, strict=True):
        ep = h.episode
        assert s["text"] == ep.text and not s["text"].startswith(f"{ep.speaker}: {ep.speaker}:")
        assert s["time"] == _minute(ep.time) and s["session"] == f"session {ep.session}"
        assert [f["id"] for f in s["facts"]] == [f.fact.id for f in h.facts]
        for f, fh in zip(s["facts"], h.facts, strict=True):
            ended = fh.fact.invalid_at is not None or fh.fact.expired_at is not None
            assert f["ended"] == ended and validity(fh.fact) in f["text"]

    # The result's facts: every ended one marked, with its dates (Berlin ended 2022-03-01).
    facts = pg.eval_on_selector_all(
        "#facts li.fact",
        "els => els.map(f => ({id: f.dataset.fact, ended: f.classList.contains('ended'),"
        " text: f.textContent}))",
    )
    assert [f["id"] for f in facts] == [h.fact.id for h in result.facts]
    berlin = next(f for f in facts if "(Berlin)" in f["text"] and "lives in" in f["text"])
    assert berlin["ended"] and "ended 2022-03-01" in berlin["text"]
    assert all(("ended" in f["text"]) == f["ended"] for f in facts)
    assert any(not f["ended"] for f in facts)

    # The graph: the episodes and the entities of their facts, ended facts drawn apart.
    _wait(pg, "() => document.body.dataset.graph === 'drawn'")
    kinds = pg.evaluate("window.graphmemCy.nodes().map(n => n.classes().join(' '))")
    assert sum("episode" in k for k in kinds) == len(result.episodes)
    assert pg.evaluate("window.graphmemCy.edges('.ended').length") >= 1
    pg.click("#episodes li.episode")
    _wait(pg, "() => document.querySelector('#details .node-title') !== null")
    assert pg.text_content("#details .node-title").startswith("#1 ")
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "explorer-episodes.png"))
    assert watch.errors == [] and watch.dialogs == []


def test_an_ended_memory_unit_is_marked(
    episodic_server: Server, memory: Memory, page: tuple[Any, Watch]
) -> None:
    from graphmem.cli.render import unit_ended

    pg, watch = page
    pg.goto(episodic_server.url + "/explore")
    question = "Who is the CEO of Northwind?"
    _ask(pg, question, namespace="temporal")
    result = memory.search(question, namespace="temporal")
    every = [h.fact for h in result.facts] + [f.fact for h in result.episodes for f in h.facts]
    units = pg.eval_on_selector_all(
        "#units li.unit",
        "els => els.map(u => ({id: u.dataset.id, ended: u.classList.contains('ended'),"
        " text: u.textContent}))",
    )
    assert [u["id"] for u in units] == [h.hyperedge.id for h in result.hyperedges]
    want = {h.hyperedge.id for h in result.hyperedges if unit_ended(h, every)}
    assert want, "Maria Lopez's unit is found and has ended"
    assert {u["id"] for u in units if u["ended"]} == want
    assert all("ended 20" in u["text"] for u in units if u["ended"])
    assert watch.errors == []


def test_episode_text_and_speaker_are_shown_as_text(
    episodic_server: Server, page: tuple[Any, Watch]
) -> None:
    pg, watch = page
    pg.goto(episodic_server.url + "/explore")
    _ask(pg, "What did Mallory say?", namespace="xss")
    assert pg.get_attribute("body", "data-state") == "answered"
    text = pg.text_content("#episodes li.episode .episode-text")
    assert text == "Mallory " + XSS + ": " + XSS
    assert pg.evaluate("document.querySelectorAll('#episodes img, #episodes script').length") == 0
    pg.hover("#episodes li.episode")
    pg.wait_for_timeout(200)
    assert pg.evaluate("window.__xss") is None
    assert watch.dialogs == [] and watch.errors == []
