"""The explanation subgraph, the self-contained HTML export and the PNG (no model, no store)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from graphmem.ids import entity_id
from graphmem.models import (
    Entity,
    EntityHit,
    Fact,
    FactHit,
    Passage,
    PassageHit,
    SearchResult,
)
from graphmem.viz import Explanation, from_result
from graphmem.viz.html import render_html, safe_json, static_text
from graphmem.viz.png import spring_layout

ROOT = Path(__file__).resolve().parents[3]
XSS = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'


def _entity(name: str) -> Entity:
    return Entity(id=entity_id("default", name), name=name, normalized=name.lower())


def _fact(s: Entity, p: str, o: Entity, score: float) -> FactHit:
    fact = Fact(
        id=f"f:{s.name}|{p}|{o.name}",
        subject=s.id,
        predicate=p,
        object=o.id,
        text=f"{s.name} {p} {o.name}",
    )
    return FactHit(fact=fact, score=score, subject_name=s.name, object_name=o.name)


def make_result(question: str = "Where was the author of Emma born?") -> SearchResult:
    emma, austen = _entity("Emma"), _entity("Jane Austen")
    steventon, ada, london = _entity("Steventon " + XSS), _entity("Ada Lovelace"), _entity("London")
    written = _fact(emma, "written by", austen, 0.9)
    born = _fact(austen, "born in", steventon, 0.7)
    other = _fact(ada, "born in", london, 0.2)
    p1 = Passage(id="p:1", text="Jane Austen was born in Steventon.", source="wiki/Austen")
    p2 = Passage(id="p:2", text="Emma is a novel by Jane Austen. " + XSS, source="wiki/Emma")
    p3 = Passage(id="p:3", text="Ada Lovelace was born in London.", source="wiki/Ada")
    return SearchResult(
        question=question,
        passages=[
            PassageHit(passage=p1, score=0.3, dense_score=0.5, facts=[born], path=["Jane Austen"]),
            PassageHit(passage=p2, score=0.2, dense_score=0.6, facts=[written], path=["Emma"]),
            PassageHit(passage=p3, score=0.01, dense_score=0.1, facts=[other]),
        ],
        facts=[written, born],
        entities=[EntityHit(entity=austen, score=0.2), EntityHit(entity=emma, score=0.1)],
    )


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


# ------------------------------------------------------------------------------ the subgraph


def test_from_result_draws_passages_entities_facts_and_paths() -> None:
    result = make_result()
    ex = from_result(result)
    passages = [n for n in ex.nodes if n.kind == "passage"]
    assert [n.rank for n in passages] == [1, 2, 3]
    assert [n.id for n in passages] == [h.passage.id for h in result.passages]
    assert {n.score for n in passages} == {h.score for h in result.passages}
    labels = {n.id: n.label for n in ex.nodes}
    facts = {(labels[e.source], e.label, labels[e.target]) for e in ex.edges if e.kind == "fact"}
    assert ("Emma", "written by", "Jane Austen") in facts
    assert ("Ada Lovelace", "born in", "London") in facts
    # The best-matched facts' entities stand in for seeds; a path joins them to passages 1 and 2.
    seeds = {labels[n.id] for n in ex.nodes if n.seed > 0}
    assert {"Emma", "Jane Austen"} <= seeds
    on_path = {n.id for n in ex.nodes if n.on_path}
    assert {"p:1", "p:2"} <= on_path
    assert "p:3" not in on_path  # Ada's passage is not reachable from the seeds
    assert any(e.on_path for e in ex.edges)
    # Every edge joins two drawn nodes.
    ids = {n.id for n in ex.nodes}
    assert all(e.source in ids and e.target in ids for e in ex.edges)


def test_explanation_round_trips_as_json() -> None:
    ex = from_result(make_result())
    again = Explanation.model_validate_json(ex.model_dump_json())
    assert again.graph_data() == ex.graph_data()


# ------------------------------------------------------------------------------ the HTML page


def test_html_is_self_contained_small_and_escapes_user_text(tmp_path: Path) -> None:
    ex = from_result(make_result("Who wrote Emma? " + XSS))
    out = tmp_path / "answer.html"
    page = ex.to_html(out)
    assert out.read_text(encoding="utf-8") == page
    assert out.stat().st_size < 2 * 1024 * 1024
    tags = _parse(page)
    # Nothing is fetched: no script/link/img/iframe source, no URL in any src or href.
    for tag, attrs in tags.tags:
        assert "src" not in attrs or tag == "img", (tag, attrs)
        assert tag not in {"link", "iframe", "object", "embed", "base"}, tag
        for name, value in attrs.items():
            if name in {"src", "href", "action", "data"}:
                assert not re.match(r"\s*(https?:)?//", value or ""), (tag, name, value)
    assert not re.search(r"<(script|link)[^>]+(src|href)\s*=\s*[\"']?\s*(https?:)?//", page, re.I)
    # The injected markup is nowhere in the page as markup: only escaped.
    assert XSS not in page
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page
    assert page.lower().count("<script") == 4  # data block, cytoscape, drawing code, boot
    assert "<img" not in page.lower()
    # The data block parses back to the explanation's graph, user text intact.
    data_block = tags.scripts[0]
    assert json.loads(data_block) == json.loads(json.dumps(ex.graph_data()))
    assert json.loads(data_block)["question"] == "Who wrote Emma? " + XSS


def test_html_csp_allows_exactly_the_inline_scripts() -> None:
    page = render_html(from_result(make_result()))
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    policy = csp.group(1).replace("&#x27;", "'")
    assert "default-src 'none'" in policy
    hashes = set(re.findall(r"'sha256-([A-Za-z0-9+/=]+)'", policy))
    executable = _parse(page).scripts[1:]  # the first is the JSON data block
    digests = {
        base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode() for s in executable
    }
    assert hashes == digests and len(digests) == 3


def test_safe_json_cannot_close_its_script_element() -> None:
    text = safe_json({"q": "</script><script>alert(1)</script>\u2028&"})
    assert "</" not in text and "<" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"q": "</script><script>alert(1)</script>\u2028&"}


def test_empty_result_renders_a_message() -> None:
    ex = from_result(SearchResult(question="nothing here?"))
    page = ex.to_html()
    assert "No passage answers this question." in page
    assert ex.nodes == [] and ex.edges == []


def test_vendored_cytoscape_matches_the_npm_pin() -> None:
    package = json.loads((ROOT / "tools/viz/package.json").read_text())
    pinned = package["dependencies"]["cytoscape"]
    assert static_text("cytoscape.VERSION").strip() == pinned
    lock = json.loads((ROOT / "tools/viz/package-lock.json").read_text())
    assert lock["packages"]["node_modules/cytoscape"]["version"] == pinned
    code = static_text("cytoscape.min.js")
    assert f'"{pinned}"' in code
    assert "</script" not in code.lower()


def test_notebook_repr_is_a_sandboxed_iframe() -> None:
    ex = from_result(make_result("q " + XSS))
    frame = ex._repr_html_()
    assert frame.startswith('<iframe sandbox="allow-scripts"')
    assert "allow-same-origin" not in frame
    assert XSS not in frame and "<script" not in frame


# ------------------------------------------------------------------------------ the PNG


def test_png_is_produced_and_non_empty(tmp_path: Path) -> None:
    ex = from_result(make_result("Costs $5 and $x^2$ math? " + XSS))
    out = tmp_path / "answer.png"
    data = ex.to_png(out)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.read_bytes() == data
    assert len(data) > 10_000
    import matplotlib.image as mpimg

    pixels = mpimg.imread(out)
    assert pixels.shape[0] > 400 and pixels.shape[1] > 600
    # Not a blank canvas: the drawing has many distinct colours.
    assert len({tuple(px) for px in pixels[::7, ::7].reshape(-1, pixels.shape[2]).tolist()}) > 20


def test_png_of_an_empty_result() -> None:
    data = from_result(SearchResult(question="nothing?")).to_png()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("n", [0, 1, 2, 30])
def test_spring_layout_is_deterministic_and_in_the_unit_square(n: int) -> None:
    edges = [(i, (i + 1) % n) for i in range(n)] if n > 1 else []
    a = spring_layout(n, edges)
    b = spring_layout(n, edges)
    assert a.shape == (n, 2)
    assert (a == b).all()
    if n:
        assert a.min() >= 0.0 and a.max() <= 1.0
