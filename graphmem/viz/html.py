"""A self-contained HTML page for an :class:`~graphmem.viz.model.Subgraph`.

Everything the page needs is inside the file: cytoscape.js (vendored from npm under
``graphmem/viz/static``, pinned by ``tools/viz/package.json``), the drawing code, the styles and
the data. Nothing is fetched at view time, and a Content-Security-Policy with the hashes of the
page's own scripts forbids any other script and any network request.

User text (question, passages, names, predicates) reaches the page only as escaped HTML or as
JSON inside a ``<script type="application/json">`` block with ``<``, ``>`` and ``&`` escaped, and
the page's script puts it in the DOM with ``textContent``.

>>> page = render_html(explanation)                         # doctest: +SKIP
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphmem.viz.model import Subgraph

STATIC_PACKAGE = "graphmem.viz.static"

_JSON_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


@cache
def static_text(name: str) -> str:
    """A file of ``graphmem/viz/static`` (cytoscape.min.js, graphmem-graph.js/.css)."""
    return resources.files(STATIC_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def safe_json(data: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>``, no HTML parsing)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_JSON_ESCAPES)


def _script_hash(code: str) -> str:
    digest = hashlib.sha256(code.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _inline_script(code: str) -> str:
    # An inlined library must not close its own <script> element early.
    if "</script" in code.lower():
        raise ValueError("inlined script contains '</script'")
    return code


_BOOT = r"""
(function () {
  "use strict";
  var G = window.GraphmemGraph;
  var data = JSON.parse(document.getElementById("graphmem-data").textContent);
  var details = document.getElementById("details");
  var cy = null;
  function select(id) {
    G.renderDetails(details, data, id, select);
    if (cy) {
      cy.$(":selected").unselect();
      cy.getElementById(id).select();
    }
  }
  document.getElementById("question").textContent = data.question;
  var nEnt = data.nodes.filter(function (n) { return n.kind === "entity"; }).length;
  var nSeed = data.nodes.filter(function (n) { return (n.seed || 0) > 0; }).length;
  document.getElementById("meta").textContent = data.mode + " ranking \u00b7 " + nSeed +
    " seed entities \u00b7 " + nEnt + " entities \u00b7 " + data.edges.length + " edges";
  G.renderPassages(document.getElementById("passages"), data, select);
  if (!data.nodes.length) {
    var msg = G.el("div", "message info", "Nothing to draw: the store has no passage for this question.");
    document.getElementById("cy").appendChild(msg);
  } else {
    cy = G.draw(document.getElementById("cy"), data, { onSelect: select });
  }
  window.graphmemCy = cy;
  document.getElementById("layout-cose").addEventListener("click", function () { G.relayout(cy, data, "cose"); });
  document.getElementById("layout-paths").addEventListener("click", function () { G.relayout(cy, data, "paths"); });
  document.getElementById("fit").addEventListener("click", function () { if (cy) cy.fit(undefined, 24); });
})();
"""

_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="graphmem">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header>
<h1>graphmem &middot; the subgraph behind the answer</h1>
<div class="question" id="question">{question}</div>
<div class="meta" id="meta">{mode} ranking</div>
</header>
<main>
<section id="graph">
<div id="cy"></div>
<div class="toolbar"><button id="layout-cose" type="button">spring</button><button id="layout-paths" type="button">paths</button><button id="fit" type="button">fit</button></div>
<div class="legend"><span><i class="seed"></i>seed entity</span><span><i class="entity"></i>entity (size/colour: PageRank)</span><span><i class="passage"></i>answer passage</span><span><i class="path"></i>seed &rarr; passage path</span></div>
</section>
<aside>
<h2>Answer passages</h2>
<div id="passages">{noscript_passages}</div>
<h2>Selected</h2>
<div id="details"><p class="empty">Click a node or a passage to see its facts and neighbours.</p></div>
</aside>
</main>
<script type="application/json" id="graphmem-data">{data}</script>
<script>{cytoscape}</script>
<script>{graph_js}</script>
<script>{boot}</script>
</body>
</html>
"""


def _static_passages(explanation: Subgraph) -> str:
    """The passages as plain escaped HTML: what a reader without JavaScript still sees."""
    items = []
    for hit in explanation.result.passages:
        p = hit.passage
        items.append(
            '<li class="passage"><div class="passage-head">'
            f'<span class="score">PPR {hit.score:.4f}</span>'
            f'<span class="source">{html.escape(p.source or p.id)}</span></div>'
            f'<div class="passage-text">{html.escape(p.text)}</div></li>'
        )
    if not items:
        return '<p class="empty">No passage answers this question.</p>'
    return '<ol class="passages">' + "".join(items) + "</ol>"


def render_html(explanation: Subgraph, *, title: str | None = None) -> str:
    """The page as a string (UTF-8 when written). Typically 450-600 KB: cytoscape is ~430 KB."""
    cytoscape = _inline_script(static_text("cytoscape.min.js"))
    graph_js = _inline_script(static_text("graphmem-graph.js"))
    boot = _inline_script(_BOOT)
    csp = "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(_script_hash(s) for s in (cytoscape, graph_js, boot)),
            "style-src 'unsafe-inline'",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    page_title = title or f"graphmem: {explanation.question}"
    return _TEMPLATE.format(
        csp=html.escape(csp, quote=True),
        title=html.escape(page_title[:200]),
        css=static_text("graphmem-graph.css"),
        question=html.escape(explanation.question),
        mode=html.escape(explanation.mode),
        noscript_passages=_static_passages(explanation),
        data=safe_json(explanation.graph_data()),
        cytoscape=cytoscape,
        graph_js=graph_js,
        boot=boot,
    )


def render_iframe(explanation: Subgraph, *, height: int = 640) -> str:
    """The page inside a sandboxed ``<iframe srcdoc>`` (how notebooks show it inline)."""
    page = render_html(explanation)
    return (
        f'<iframe sandbox="allow-scripts" style="width:100%;height:{int(height)}px;'
        f'border:1px solid #d0d7de" srcdoc="{html.escape(page, quote=True)}"></iframe>'
    )
