// The GraphiQL page of `graphmem serve --graphiql`: talks to /graphql on this same origin.
// API keys go in the Headers tab as {"Authorization": "Bearer gmk...."}; they are not stored.
"use strict";
(function () {
  const EXAMPLE = [
    "# graphmem GraphiQL: write a query, run it with Ctrl-Enter.",
    "# With an API key, open Headers below and set",
    '#   {"Authorization": "Bearer gmk.<id>.<secret>"}',
    "",
    "query Search {",
    '  search(question: "Who wrote The Glass Orchard?", k: 3) {',
    "    passages { score passage { id title text } }",
    "  }",
    "}",
    "",
  ].join("\n");
  const url = new URL("graphql", window.location.href);
  url.search = "";
  url.hash = "";
  const ws = new URL(url.href);
  ws.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const fetcher = GraphiQL.createFetcher({ url: url.href, subscriptionUrl: ws.href });
  const explorer = GraphiQLPluginExplorer.explorerPlugin();
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: EXAMPLE,
      defaultEditorToolsVisibility: true,
      plugins: [explorer],
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    }),
  );
})();
