"""Static files of the HTML export and the explorer page (cytoscape.js is vendored from npm)."""
