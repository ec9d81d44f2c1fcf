// FalkorDB: a range index on passages and episodes of one source (no IF NOT EXISTS: "already indexed" is expected).
CREATE INDEX FOR (n:GmNode) ON (n.source)
