/* graphmem explorer: search, draw the subgraph behind the answer, browse nodes; all over GraphQL.
 * User data reaches the DOM only through textContent (GraphmemGraph.el), never innerHTML.
 */
(function () {
  "use strict";
  var G = window.GraphmemGraph;
  var ENDPOINT = "graphql";
  var $ = function (id) { return document.getElementById(id); };

  var state = { data: null, cy: null, namespace: null, seq: 0 };

  function setState(name) { document.body.setAttribute("data-state", name); }

  function message(kind, text) {
    var box = $("status");
    box.replaceChildren();
    if (text) box.appendChild(G.el("div", "message " + kind, text));
  }

  function headers() {
    var h = { "Content-Type": "application/json", "Accept": "application/json" };
    var key = $("api-key").value.trim();
    if (key) h["Authorization"] = "Bearer " + key;
    return h;
  }

  function namespaceArg() {
    var ns = $("namespace").value.trim();
    return ns ? ns : null;
  }

  /* POST a GraphQL operation; resolves to `data`, rejects with an Error whose message is for people */
  function gql(query, variables) {
    var body = JSON.stringify({ query: query, variables: variables || {} });
    return fetch(ENDPOINT, { method: "POST", headers: headers(), body: body })
      .catch(function () {
        var err = new Error("Cannot reach the graphmem server. Is `graphmem serve` running? " +
          "Reload this page once it is.");
        err.kind = "down";
        throw err;
      })
      .then(function (resp) {
        return resp.text().then(function (text) {
          var payload = null;
          try { payload = JSON.parse(text); } catch (e) { payload = null; }
          if (payload && payload.errors && payload.errors.length) {
            var first = payload.errors[0];
            var code = first.extensions && first.extensions.code;
            var err = new Error(code === "UNAUTHENTICATED" || code === "FORBIDDEN"
              ? "The server refused the API key (" + code + "): " + first.message
              : first.message + (code ? " (" + code + ")" : ""));
            err.kind = code || "error";
            throw err;
          }
          if (!resp.ok || !payload || !payload.data) {
            var e2 = new Error(resp.status === 401 || resp.status === 403
              ? "The server refused the request: an API key is needed (HTTP " + resp.status + ")."
              : "The server answered HTTP " + resp.status + " without a GraphQL result.");
            e2.kind = resp.status >= 500 ? "down" : "error";
            throw e2;
          }
          return payload.data;
        });
      });
  }

  var STATS = "query Stats($ns: String) { stats(namespace: $ns) { namespace passages entities facts episodes } }";

  /* a fact with when it held: the same fields --json prints */
  var FACT = "fact { id subject predicate object text validAt invalidAt expiredAt }";

  var SEARCH = [
    "query Search($q: String!, $k: Int!, $ns: String) {",
    "  search(question: $q, k: $k, namespace: $ns) {",
    "    question mode timingsMs",
    "    passages { score denseScore path",
    "      passage { id text source title }",
    "      facts { score subjectName objectName " + FACT + " } }",
    "    facts { score subjectName objectName " + FACT + " }",
    "    entities { score entity { id name } }",
    "    episodes { score episode { id text time speaker session source }",
    "      facts { score subjectName objectName " + FACT + " } }",
    "    hyperedges { score hyperedge { id description kind members } }",
    "  }",
    "}"
  ].join("\n");

  var NODE = [
    "query Node($id: ID!, $ns: String) {",
    "  node(id: $id, namespace: $ns) { __typename id",
    "    ... on Entity { name type aliases }",
    "    ... on Passage { text source title }",
    "    ... on Fact { text predicate }",
    "    ... on Episode { text speaker }",
    "    ... on Event { description }",
    "    ... on Hyperedge { description } }",
    "  neighbors(id: $id, namespace: $ns, depth: 1, first: 40) {",
    "    totalCount truncated",
    "    edges { id kind label edgeType weight direction factId",
    "      node { __typename ... on Entity { name } ... on Passage { source title text } } } }",
    "}"
  ].join("\n");

  function loadStats() {
    return gql(STATS, { ns: namespaceArg() }).then(function (d) {
      var s = d.stats;
      $("store-info").textContent = "namespace " + s.namespace + ": " + s.passages + " passages \u00b7 " +
        s.entities + " entities \u00b7 " + s.facts + " facts \u00b7 " + s.episodes + " episodes";
      if (!s.passages && !s.episodes) {
        setState("empty");
        message("info", "The store is empty (namespace " + s.namespace + "): ingest documents or " +
          "episodes first, e.g. graphmem ingest examples/data/demo_corpus.jsonl, then search.");
      } else if (["loading", "error", "down", "empty"].indexOf(document.body.getAttribute("data-state")) >= 0) {
        setState("ready");
        message("", "");
      }
      return s;
    }).catch(function (err) {
      $("store-info").textContent = "not connected";
      setState(err.kind === "down" ? "down" : "error");
      message("error", err.message);
      return null;
    });
  }

  /* ---- the drawing data from a search result (mirrors graphmem.viz.explain.from_result) ---- */
  function fromSearch(r) {
    var nodes = {};
    var order = [];
    var edges = {};
    function add(n) { if (!nodes[n.id]) { nodes[n.id] = n; order.push(n.id); } return nodes[n.id]; }
    function entity(id, name, score) {
      var n = add({ id: id, kind: "entity", label: name, score: 0, seed: 0, on_path: false });
      if (score !== undefined && score > n.score) n.score = score;
    }
    function edge(e) {
      if (e.source === e.target) return;
      var key = e.kind + "|" + (e.fact_id || e.source) + "|" + (e.fact_id ? "" : e.target);
      if (!edges[key] || e.score > edges[key].score) edges[key] = e;
    }
    function factEdge(fh) {
      var f = fh.fact;
      entity(f.subject, fh.subjectName);
      entity(f.object, fh.objectName);
      edge({ source: f.subject, target: f.object, kind: "fact", label: f.predicate, fact_id: f.id,
             text: f.text, score: fh.score, on_path: false, ended: !isCurrent(f),
             validity: validity(f) });
    }
    r.passages.forEach(function (h, i) {
      var p = h.passage;
      add({ id: p.id, kind: "passage", label: "#" + (i + 1) + " " + (p.title || p.source || p.id.slice(0, 10)),
            score: h.score, seed: 0, rank: i + 1, text: p.text, source: p.source,
            dense_score: h.denseScore, on_path: false });
      h.facts.forEach(function (fh) {
        factEdge(fh);
        [fh.fact.subject, fh.fact.object].forEach(function (eid) {
          edge({ source: p.id, target: eid, kind: "mentions", label: "", score: 0, on_path: false });
        });
      });
    });
    (r.episodes || []).forEach(function (h, i) {
      var ep = h.episode;
      add({ id: ep.id, kind: "episode", label: "#" + (i + 1) + " " + episodeLine(ep), score: h.score,
            seed: 0, rank: i + 1, text: episodeLine(ep), source: ep.session ? "session " + ep.session : null,
            time: ep.time, on_path: false });
      h.facts.forEach(function (fh) {
        factEdge(fh);
        [fh.fact.subject, fh.fact.object].forEach(function (eid) {
          edge({ source: ep.id, target: eid, kind: "mentions", label: "", score: 0, on_path: false });
        });
      });
    });
    r.facts.forEach(factEdge);
    r.entities.forEach(function (eh) { entity(eh.entity.id, eh.entity.name, eh.score); });
    var seeds = {};
    r.facts.slice(0, 5).forEach(function (fh) {
      [fh.fact.subject, fh.fact.object].forEach(function (eid) {
        seeds[eid] = Math.max(seeds[eid] || 0, fh.score);
      });
    });
    Object.keys(seeds).forEach(function (eid) { if (nodes[eid]) nodes[eid].seed = seeds[eid]; });
    var edgeList = Object.keys(edges).map(function (k) { return edges[k]; });
    markPaths(nodes, edgeList, Object.keys(seeds));
    return { question: r.question, mode: r.mode,
             nodes: order.map(function (id) { return nodes[id]; }), edges: edgeList };
  }

  function markPaths(nodes, edges, seeds) {
    var adj = {};
    edges.forEach(function (e) {
      (adj[e.source] = adj[e.source] || []).push([e.target, e]);
      (adj[e.target] = adj[e.target] || []).push([e.source, e]);
    });
    var prev = {};
    var queue = [];
    seeds.forEach(function (s) { if (nodes[s]) { prev[s] = null; queue.push(s); } });
    while (queue.length) {
      var u = queue.shift();
      (adj[u] || []).slice().sort(function (a, b) { return b[1].score - a[1].score; })
        .forEach(function (t) {
          if (!(t[0] in prev)) { prev[t[0]] = [u, t[1]]; queue.push(t[0]); }
        });
    }
    Object.keys(nodes).forEach(function (id) {
      if ((nodes[id].kind !== "passage" && nodes[id].kind !== "episode") || !(id in prev)) return;
      var cur = id;
      while (cur !== null && cur !== undefined) {
        nodes[cur].on_path = true;
        var step = prev[cur];
        if (!step) break;
        step[1].on_path = true;
        cur = step[0];
      }
    });
  }

  /* ---- validity, episodes, facts and memory units (as --json and the CLI show them) ---- */
  function isCurrent(f) { return !f.invalidAt && !f.expiredAt; }

  function day(value) {
    var d = new Date(value);
    return isNaN(d.getTime()) ? String(value) : d.toISOString().slice(0, 10);
  }

  function minute(value) {
    var d = new Date(value);
    return isNaN(d.getTime()) ? String(value) : d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }

  /* "since D", "since D, ended E", "superseded E" (memory learned newer), or "" */
  function validity(f) {
    var parts = [];
    if (f.validAt) parts.push("since " + day(f.validAt));
    if (f.invalidAt) parts.push("ended " + day(f.invalidAt));
    else if (f.expiredAt) parts.push("superseded " + day(f.expiredAt));
    return parts.join(", ");
  }

  /* the turn's text without the "speaker:" ingest puts in front, so the speaker shows once */
  function episodeBody(ep) {
    var text = String(ep.text || "");
    var who = (ep.speaker || "").trim();
    if (who && text.indexOf(who + ":") === 0) text = text.slice(who.length + 1).replace(/^\s+/, "");
    return text;
  }

  function episodeLine(ep) { return (ep.speaker ? ep.speaker + ": " : "") + episodeBody(ep); }

  function factItem(fh) {
    var f = fh.fact;
    var ended = !isCurrent(f);
    var li = G.el("li", "fact" + (ended ? " ended" : ""),
      "(" + fh.subjectName + ") \u2014[" + f.predicate + "]\u2192 (" + fh.objectName + ")");
    li.setAttribute("data-fact", f.id);
    var when = validity(f);
    if (when) li.appendChild(G.el("span", "validity", when));
    if (ended) li.appendChild(G.el("span", "badge", "ended"));
    if (f.text) li.title = f.text;
    return li;
  }

  function factList(cls, hits) {
    var ul = G.el("ul", cls);
    hits.forEach(function (fh) { ul.appendChild(factItem(fh)); });
    return ul;
  }

  function renderEpisodes(box, r) {
    box.replaceChildren();
    var hits = r.episodes || [];
    if (!hits.length) { box.appendChild(G.el("p", "empty", "No episode answers this question.")); return; }
    var list = G.el("ol", "episodes");
    hits.forEach(function (h, i) {
      var ep = h.episode;
      var item = G.el("li", "episode");
      item.setAttribute("data-id", ep.id);
      var head = G.el("div", "episode-head");
      head.appendChild(G.el("span", "rank", "#" + (i + 1)));
      head.appendChild(G.el("span", "score", "score " + G.fmt(h.score)));
      head.appendChild(G.el("span", "episode-time", minute(ep.time)));
      if (ep.session) head.appendChild(G.el("span", "session", "session " + ep.session));
      item.appendChild(head);
      var text = G.el("div", "episode-text");
      if (ep.speaker) {
        text.appendChild(G.el("span", "speaker", ep.speaker));
        text.appendChild(document.createTextNode(": "));
      }
      text.appendChild(document.createTextNode(episodeBody(ep)));
      item.appendChild(text);
      if (h.facts.length) item.appendChild(factList("facts episode-facts", h.facts));
      item.addEventListener("click", function () { select(ep.id); });
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function renderFacts(box, r) {
    box.replaceChildren();
    if (!r.facts.length) { box.appendChild(G.el("p", "empty", "No fact matched the question.")); return; }
    box.appendChild(factList("facts result-facts", r.facts));
  }

  /* every fact of the result, once */
  function allFacts(r) {
    var seen = {};
    var out = [];
    function take(fh) { if (!seen[fh.fact.id]) { seen[fh.fact.id] = true; out.push(fh.fact); } }
    r.facts.forEach(take);
    r.passages.forEach(function (h) { h.facts.forEach(take); });
    (r.episodes || []).forEach(function (h) { h.facts.forEach(take); });
    return out;
  }

  /* a unit has ended when the result holds facts between its members and every one has ended */
  function unitEnd(unit, facts) {
    var members = {};
    unit.members.forEach(function (m) { members[m] = true; });
    var inside = facts.filter(function (f) { return members[f.subject] && members[f.object]; });
    if (!inside.length || inside.some(isCurrent)) return null;
    var last = "";
    inside.forEach(function (f) {
      var t = f.invalidAt || f.expiredAt;
      if (t && day(t) > last) last = day(t);
    });
    return last || "?";
  }

  function renderUnits(box, r) {
    box.replaceChildren();
    var hits = r.hyperedges || [];
    if (!hits.length) { box.appendChild(G.el("p", "empty", "No memory unit for this question.")); return; }
    var facts = allFacts(r);
    var list = G.el("ol", "units");
    hits.forEach(function (h) {
      var end = unitEnd(h.hyperedge, facts);
      var li = G.el("li", "unit" + (end ? " ended" : ""), h.hyperedge.description);
      li.setAttribute("data-id", h.hyperedge.id);
      if (end) {
        li.appendChild(G.el("span", "validity", "ended " + end));
        li.appendChild(G.el("span", "badge", "ended"));
      }
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  /* ---- search ---- */
  function search(question) {
    var seq = ++state.seq;
    var t0 = performance.now();
    var k = Math.max(1, Math.min(50, parseInt($("k").value, 10) || 5));
    state.namespace = namespaceArg();
    setState("searching");
    $("submit").disabled = true;
    message("info", "Searching\u2026");
    $("asked").textContent = "Q: " + question;
    $("timing").textContent = "";
    return gql(SEARCH, { q: question, k: k, ns: state.namespace }).then(function (d) {
      if (seq !== state.seq) return;
      var r = d.search;
      var data = fromSearch(r);
      state.data = data;
      G.renderPassages($("passages"), data, select);
      if (!r.passages.length && (r.episodes.length || r.facts.length)) {
        $("passages").replaceChildren(G.el("p", "empty",
          "No document passage for this question: the episodes and facts below answer it."));
      }
      renderEpisodes($("episodes"), r);
      renderFacts($("facts"), r);
      renderUnits($("units"), r);
      $("details").replaceChildren(G.el("p", "empty", "Click a node or a passage to see its facts and neighbours."));
      var ms = performance.now() - t0;
      window.graphmemTiming = { submitToAnswerMs: ms, serverMs: r.timingsMs };
      $("timing").textContent = "\u00b7 answered in " + Math.round(ms) + " ms (" + r.mode + " ranking)";
      if (!r.passages.length && !r.episodes.length && !r.facts.length) {
        setState("no-hits");
        message("info", "No passage answers this question in this namespace. Try other words, or check " +
          "that the namespace holds documents.");
        drawGraph(null);
        return;
      }
      message("", "");
      setState("answered");
      // Draw after the passages are on screen: the first answer never waits for the layout.
      window.requestAnimationFrame(function () { if (seq === state.seq) drawGraph(data); });
    }).catch(function (err) {
      if (seq !== state.seq) return;
      setState(err.kind === "down" ? "down" : "error");
      message("error", err.message);
    }).then(function () {
      if (seq === state.seq) $("submit").disabled = false;
    });
  }

  function drawGraph(data) {
    if (state.cy) { state.cy.destroy(); state.cy = null; }
    $("cy").replaceChildren();
    if (!data || !data.nodes.length) {
      $("cy").appendChild(G.el("div", "message info", data ? "Nothing to draw." : "No graph: nothing answered."));
      window.graphmemCy = null;
      return;
    }
    state.cy = G.draw($("cy"), data, { onSelect: select });
    if (state.cy) {
      // episodes and ended facts: styles the shared drawing code does not know
      data.edges.forEach(function (e, i) { if (e.ended) state.cy.getElementById("edge" + i).addClass("ended"); });
      state.cy.style()
        .selector("node.episode").style({ "shape": "round-rectangle", "height": 24,
          "background-color": "mapData(rel, 0, 1, #d8b9ff, #6639ba)", "font-style": "italic" })
        .selector("edge.fact.ended").style({ "line-style": "dotted", "width": 2.5, "line-color": "#9a6700",
          "target-arrow-color": "#9a6700", "color": "#9a6700" })
        .selector("edge.fact.ended.path").style({ "line-color": "#e31a1c", "target-arrow-color": "#e31a1c" })
        .update();
    }
    window.graphmemCy = state.cy;
    document.body.setAttribute("data-graph", "drawn");
  }

  /* ---- node details, through GraphQL ---- */
  function select(nodeId) {
    var data = state.data;
    if (!data) return;
    var panel = $("details");
    G.renderDetails(panel, data, nodeId, select);
    if (state.cy) { state.cy.$(":selected").unselect(); state.cy.getElementById(nodeId).select(); }
    var more = G.el("div", "remote", "Loading facts and neighbours from the server\u2026");
    panel.appendChild(more);
    if (panel.scrollIntoView) panel.scrollIntoView({ block: "nearest" });
    gql(NODE, { id: nodeId, ns: state.namespace }).then(function (d) {
      renderRemote(more, nodeId, d);
    }).catch(function (err) {
      more.replaceChildren(G.el("div", "message error", err.message));
    });
  }

  /* a neighbour's display name: the entity's name, the passage's title or source, else the label */
  function nameOf(e) {
    var n = e.node || {};
    return n.name || n.title || n.source || (e.edgeType === "RELATES" ? e.id : e.label);
  }

  function renderRemote(box, nodeId, d) {
    box.replaceChildren();
    var conn = d.neighbors;
    var facts = conn.edges.filter(function (e) { return e.edgeType === "RELATES"; });
    var others = conn.edges.filter(function (e) { return e.edgeType !== "RELATES"; });
    box.appendChild(G.el("h4", null, "All facts in the store (" + facts.length + ")"));
    var fl = G.el("ul", "facts remote-facts");
    facts.forEach(function (e) {
      fl.appendChild(G.el("li", "fact", (e.direction === "out" ? "\u2192 " : "\u2190 ") + e.label));
    });
    if (!facts.length) fl.appendChild(G.el("li", "empty", "none"));
    box.appendChild(fl);
    box.appendChild(G.el("h4", null, "All neighbours (" + conn.totalCount + (conn.truncated ? "+" : "") + ")"));
    var nl = G.el("ul", "neighbours remote-neighbours");
    conn.edges.forEach(function (e) {
      var li = G.el("li", "neighbour");
      var a = G.el("a", null, G.shorten(nameOf(e), 120));
      a.href = "#";
      a.addEventListener("click", function (ev) { ev.preventDefault(); expandTo(nodeId, e); });
      li.appendChild(a);
      li.appendChild(G.el("span", "via", " " + e.kind + " via " +
        (e.edgeType === "RELATES" ? "fact: " + G.shorten(e.label, 80) : e.edgeType)));
      nl.appendChild(li);
    });
    if (!conn.edges.length) nl.appendChild(G.el("li", "empty", "none"));
    box.appendChild(nl);
    if (others.length || facts.length) {
      var actions = G.el("div", "detail-actions");
      var btn = G.el("button", null, "Draw these neighbours");
      btn.type = "button";
      btn.addEventListener("click", function () {
        conn.edges.forEach(function (e) { addNeighbour(nodeId, e); });
        drawGraph(state.data);
        select(nodeId);
      });
      actions.appendChild(btn);
      box.appendChild(actions);
    }
  }

  function addNeighbour(fromId, e) {
    var data = state.data;
    var known = data.nodes.some(function (n) { return n.id === e.id; });
    if (!known) {
      data.nodes.push({ id: e.id, kind: e.kind === "passage" ? "passage" : "entity",
                        label: nameOf(e), score: 0, seed: 0, on_path: false,
                        text: e.node && e.node.text ? e.node.text : null,
                        source: e.node && e.node.source ? e.node.source : null });
    }
    var dup = data.edges.some(function (x) {
      return (e.factId && x.fact_id === e.factId) ||
        (!e.factId && ((x.source === fromId && x.target === e.id) || (x.source === e.id && x.target === fromId)));
    });
    if (!dup) {
      var out = e.direction === "out";
      data.edges.push({ source: out ? fromId : e.id, target: out ? e.id : fromId,
                        kind: e.edgeType === "RELATES" ? "fact" : (e.edgeType === "SYNONYM" ? "synonym" : "mentions"),
                        label: e.edgeType === "RELATES" ? e.label : "", fact_id: e.factId, text: e.label,
                        score: e.weight || 0, on_path: false });
    }
    return !known;
  }

  function expandTo(fromId, e) {
    if (addNeighbour(fromId, e)) drawGraph(state.data);
    select(e.id);
  }

  /* ---- wiring ---- */
  $("search-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = $("question").value;
    if (!q.trim()) { message("error", "Type a question first."); return; }
    search(q);
  });
  $("namespace").addEventListener("change", loadStats);
  $("api-key").addEventListener("change", loadStats);
  $("layout-cose").addEventListener("click", function () { G.relayout(state.cy, state.data, "cose"); });
  $("layout-paths").addEventListener("click", function () { G.relayout(state.cy, state.data, "paths"); });
  $("fit").addEventListener("click", function () { if (state.cy) state.cy.fit(undefined, 24); });
  if (typeof window.cytoscape !== "function") {
    message("error", "The graph library did not load (explore/static/cytoscape.min.js); passages still work.");
  }
  window.graphmemExplorer = { search: search, select: select, fromSearch: fromSearch };
  loadStats();
})();
