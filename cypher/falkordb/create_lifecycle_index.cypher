// FalkorDB: a range index on lifecycle events by node (no IF NOT EXISTS: "already indexed" is expected).
CREATE INDEX FOR (e:GmLifecycle) ON (e.node)
