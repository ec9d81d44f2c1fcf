#!/usr/bin/env bash
# Copy the pinned GraphiQL, React and explorer-plugin builds (package-lock.json) into
# api/graphmem_api/static/graphiql/, where `serve --graphiql` serves them: the page loads nothing from
# a CDN, so it works offline. They are the very files strawberry's page pins by SRI hash
# (tests/unit/api/test_graphiql_assets.py checks the hashes and that VERSIONS matches the lock file).
# Re-run after changing a pinned version.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="$here/../../api/graphmem_api/static/graphiql"
cd "$here"
npm ci --no-audit --no-fund --silent
mkdir -p "$dest"
nm=node_modules
cp "$nm/react/umd/react.production.min.js" "$dest/react.production.min.js"
cp "$nm/react-dom/umd/react-dom.production.min.js" "$dest/react-dom.production.min.js"
cp "$nm/graphiql/graphiql.min.js" "$dest/graphiql.min.js"
cp "$nm/graphiql/graphiql.min.css" "$dest/graphiql.min.css"
cp "$nm/@graphiql/plugin-explorer/dist/index.umd.js" "$dest/plugin-explorer.umd.js"
cp "$nm/@graphiql/plugin-explorer/dist/style.css" "$dest/plugin-explorer.css"
cp "$nm/react/LICENSE" "$dest/react.LICENSE"
cp "$nm/react-dom/LICENSE" "$dest/react-dom.LICENSE"
cp "$nm/graphiql/LICENSE" "$dest/graphiql.LICENSE"
# @graphiql/plugin-explorer ships no LICENSE file: it is MIT (package.json), from the graphiql
# repository, whose LICENSE is graphiql's; it bundles graphiql-explorer (MIT, OneGraph).
{
  echo "@graphiql/plugin-explorer: MIT (package.json), from the graphql/graphiql repository:"
  echo
  cat "$nm/graphiql/LICENSE"
} > "$dest/plugin-explorer.LICENSE"
node -e '
const lock = require("./package-lock.json").packages;
for (const p of ["react", "react-dom", "graphiql", "@graphiql/plugin-explorer"])
  console.log(p + " " + lock["node_modules/" + p].version);
' > "$dest/VERSIONS"
echo "vendored into $dest:"; cat "$dest/VERSIONS"
