#!/usr/bin/env bash
# Copy the pinned cytoscape.js build (package-lock.json) into graphmem/viz/static/, where the HTML
# export and the explorer page inline or serve it: nothing is loaded from a CDN at view time.
# Re-run after changing the pinned version; tests/unit/viz/test_viz.py checks the copy matches the pin.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="$here/../../graphmem/viz/static"
cd "$here"
npm ci --no-audit --no-fund --silent
mkdir -p "$dest"
cp node_modules/cytoscape/dist/cytoscape.min.js "$dest/cytoscape.min.js"
cp node_modules/cytoscape/LICENSE "$dest/cytoscape.LICENSE"
node -e 'console.log(require("./node_modules/cytoscape/package.json").version)' > "$dest/cytoscape.VERSION"
echo "vendored cytoscape $(cat "$dest/cytoscape.VERSION") into $dest"
