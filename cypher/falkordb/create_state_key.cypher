// FalkorDB: a range index on lifecycle states by node (no IF NOT EXISTS: "already indexed" is expected).
CREATE INDEX FOR (s:GmState) ON (s.node)
