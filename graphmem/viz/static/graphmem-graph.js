/* graphmem: draw the subgraph behind an answer with cytoscape.js, and fill the side panels.
 * Shared by the HTML export (graphmem viz, Explanation.to_html) and the /explore page.
 * Every user-provided string reaches the DOM through textContent, never innerHTML.
 *
 * data = {question, mode, nodes: [{id, kind, label, score, seed, rank, text, source,
 *         dense_score, on_path}], edges: [{source, target, kind, label, fact_id, text, score, on_path}]}
 */
(function (global) {
  "use strict";

  var MAX_LABEL = 48;

  function shorten(text, n) {
    text = String(text == null ? "" : text);
    return text.length > n ? text.slice(0, n - 1) + "\u2026" : text;
  }

  function fmt(x) {
    if (x === null || x === undefined) return "\u2013";
    var v = Number(x);
    if (!isFinite(v)) return "\u2013";
    if (v !== 0 && Math.abs(v) < 0.001) return v.toExponential(2);
    return v.toFixed(4);
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* cytoscape elements; sizes and colours from PageRank scores normalized per kind */
  function elements(data) {
    var maxScore = { entity: 0, passage: 0 };
    var maxSeed = 0;
    data.nodes.forEach(function (n) {
      maxScore[n.kind] = Math.max(maxScore[n.kind] || 0, n.score || 0);
      maxSeed = Math.max(maxSeed, n.seed || 0);
    });
    var ids = {};
    var out = [];
    data.nodes.forEach(function (n) {
      ids[n.id] = true;
      var m = maxScore[n.kind] || 0;
      var rel = m > 0 ? Math.sqrt(Math.max(n.score || 0, 0) / m) : 0;
      var classes = [n.kind];
      if ((n.seed || 0) > 0) classes.push("seed");
      if (n.on_path) classes.push("path");
      out.push({
        group: "nodes",
        data: {
          id: n.id,
          label: shorten(n.label, MAX_LABEL),
          rel: rel,
          size: n.kind === "passage" ? 34 + 30 * rel : 18 + 46 * rel,
          seedw: maxSeed > 0 ? (n.seed || 0) / maxSeed : 0
        },
        classes: classes.join(" ")
      });
    });
    data.edges.forEach(function (e, i) {
      if (!ids[e.source] || !ids[e.target]) return;
      var classes = [e.kind];
      if (e.on_path) classes.push("path");
      out.push({
        group: "edges",
        data: {
          id: "edge" + i,
          source: e.source,
          target: e.target,
          label: e.kind === "fact" ? shorten(e.label, 32) : ""
        },
        classes: classes.join(" ")
      });
    });
    return out;
  }

  var STYLE = [
    { selector: "node", style: {
      "label": "data(label)", "font-size": 10, "text-wrap": "ellipsis", "text-max-width": 160,
      "text-valign": "bottom", "text-margin-y": 3, "color": "#1b1f23",
      "text-background-color": "#ffffff", "text-background-opacity": 0.75,
      "text-background-padding": 1, "width": "data(size)", "height": "data(size)" } },
    { selector: "node.entity", style: {
      "shape": "ellipse",
      "background-color": "mapData(rel, 0, 1, #c6dbef, #08306b)" } },
    { selector: "node.passage", style: {
      "shape": "round-rectangle", "width": "data(size)", "height": 26,
      "background-color": "mapData(rel, 0, 1, #fdd0a2, #d94801)", "font-weight": "bold" } },
    { selector: "node.seed", style: {
      "border-width": "mapData(seedw, 0, 1, 3, 7)", "border-color": "#e6a800" } },
    { selector: "node.path", style: { "underlay-color": "#e31a1c", "underlay-opacity": 0.15,
      "underlay-padding": 5 } },
    { selector: "node:selected", style: { "overlay-color": "#6f42c1", "overlay-opacity": 0.25 } },
    { selector: "edge", style: {
      "width": 1.5, "line-color": "#9aa5b1", "curve-style": "bezier", "font-size": 8,
      "color": "#37474f", "text-rotation": "autorotate", "text-background-color": "#ffffff",
      "text-background-opacity": 0.8, "text-background-padding": 1 } },
    { selector: "edge.fact", style: {
      "label": "data(label)", "target-arrow-shape": "triangle", "target-arrow-color": "#9aa5b1",
      "line-color": "#78909c" } },
    { selector: "edge.mentions", style: { "line-style": "dashed", "line-color": "#cfd8dc",
      "width": 1 } },
    { selector: "edge.synonym", style: { "line-style": "dotted", "line-color": "#8e24aa",
      "width": 2 } },
    { selector: "edge.path", style: { "line-color": "#e31a1c", "target-arrow-color": "#e31a1c",
      "width": 3 } }
  ];

  function draw(container, data, options) {
    options = options || {};
    if (typeof global.cytoscape !== "function") {
      container.textContent = "The graph library did not load; the passages are listed beside.";
      return null;
    }
    var cy = global.cytoscape({
      container: container,
      elements: elements(data),
      style: STYLE,
      layout: { name: "cose", animate: false, randomize: true, nodeRepulsion: 9000,
                idealEdgeLength: 90, padding: 24 },
      minZoom: 0.1,
      maxZoom: 4
    });
    cy.on("tap", "node", function (evt) {
      if (options.onSelect) options.onSelect(evt.target.id());
    });
    return cy;
  }

  function relayout(cy, data, name) {
    if (!cy) return;
    var seeds = data.nodes.filter(function (n) { return (n.seed || 0) > 0; })
      .map(function (n) { return "#" + CSS.escape(n.id); });
    var layout = name === "paths" && seeds.length
      ? { name: "breadthfirst", roots: seeds.join(","), directed: false, spacingFactor: 1.1,
          animate: false, padding: 24 }
      : { name: "cose", animate: false, randomize: true, nodeRepulsion: 9000, padding: 24 };
    cy.layout(layout).run();
  }

  function byId(data) {
    var map = {};
    data.nodes.forEach(function (n) { map[n.id] = n; });
    return map;
  }

  /* the answer passages, ranked, into `container` (cleared first) */
  function renderPassages(container, data, onSelect) {
    container.replaceChildren();
    var passages = data.nodes.filter(function (n) { return n.kind === "passage"; })
      .sort(function (a, b) { return (a.rank || 0) - (b.rank || 0); });
    if (!passages.length) {
      container.appendChild(el("p", "empty", "No passage answers this question."));
      return;
    }
    var list = el("ol", "passages");
    passages.forEach(function (p) {
      var item = el("li", "passage");
      item.setAttribute("data-id", p.id);
      var head = el("div", "passage-head");
      head.appendChild(el("span", "rank", "#" + (p.rank || "?")));
      head.appendChild(el("span", "score", "PPR " + fmt(p.score) +
        (p.dense_score !== null && p.dense_score !== undefined ? " \u00b7 dense " + fmt(p.dense_score) : "")));
      if (p.source) head.appendChild(el("span", "source", p.source));
      item.appendChild(head);
      item.appendChild(el("div", "passage-text", shorten(p.text, 600)));
      if (onSelect) item.addEventListener("click", function () { onSelect(p.id); });
      list.appendChild(item);
    });
    container.appendChild(list);
  }

  /* facts and neighbours of one node, from the drawn data */
  function details(data, nodeId) {
    var nodes = byId(data);
    var facts = [];
    var neighbours = {};
    data.edges.forEach(function (e) {
      if (e.source !== nodeId && e.target !== nodeId) return;
      var other = e.source === nodeId ? e.target : e.source;
      if (e.kind === "fact") facts.push(e);
      if (nodes[other]) neighbours[other] = { node: nodes[other], via: e.kind === "fact" ? e.label : e.kind };
    });
    return { node: nodes[nodeId] || null, facts: facts,
             neighbours: Object.keys(neighbours).map(function (k) { return neighbours[k]; }) };
  }

  function factLine(data, e) {
    var nodes = byId(data);
    var s = nodes[e.source] ? nodes[e.source].label : e.source;
    var o = nodes[e.target] ? nodes[e.target].label : e.target;
    return "(" + s + ") \u2014[" + e.label + "]\u2192 (" + o + ")";
  }

  /* the panel for a clicked node */
  function renderDetails(container, data, nodeId, onSelect) {
    container.replaceChildren();
    var d = details(data, nodeId);
    if (!d.node) {
      container.appendChild(el("p", "empty", "Unknown node."));
      return d;
    }
    var n = d.node;
    container.appendChild(el("h3", "node-title", n.label));
    var meta = el("dl", "node-meta");
    function row(k, v) { meta.appendChild(el("dt", null, k)); meta.appendChild(el("dd", null, v)); }
    row("kind", n.kind);
    row("PageRank score", fmt(n.score));
    if ((n.seed || 0) > 0) row("seed weight", fmt(n.seed));
    if (n.source) row("source", n.source);
    if (n.dense_score !== null && n.dense_score !== undefined) row("dense score", fmt(n.dense_score));
    row("id", n.id);
    container.appendChild(meta);
    if (n.text) container.appendChild(el("div", "passage-text", n.text));
    container.appendChild(el("h4", null, "Facts (" + d.facts.length + ")"));
    var fl = el("ul", "facts");
    d.facts.forEach(function (e) {
      var li = el("li", "fact" + (e.on_path ? " on-path" : ""), factLine(data, e));
      if (e.text) li.title = e.text;
      fl.appendChild(li);
    });
    if (!d.facts.length) fl.appendChild(el("li", "empty", "none drawn"));
    container.appendChild(fl);
    container.appendChild(el("h4", null, "Neighbours (" + d.neighbours.length + ")"));
    var nl = el("ul", "neighbours");
    d.neighbours.forEach(function (nb) {
      var li = el("li", "neighbour");
      var a = el("a", null, nb.node.label);
      a.href = "#";
      a.addEventListener("click", function (ev) { ev.preventDefault(); if (onSelect) onSelect(nb.node.id); });
      li.appendChild(a);
      li.appendChild(el("span", "via", " via " + nb.via));
      nl.appendChild(li);
    });
    container.appendChild(nl);
    return d;
  }

  global.GraphmemGraph = {
    draw: draw,
    relayout: relayout,
    elements: elements,
    details: details,
    renderPassages: renderPassages,
    renderDetails: renderDetails,
    el: el,
    fmt: fmt,
    shorten: shorten
  };
})(window);
