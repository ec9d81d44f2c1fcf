// FalkorDB: a range index on lifecycle states by state (no IF NOT EXISTS: "already indexed" is expected).
CREATE INDEX FOR (s:GmState) ON (s.state)
