// FalkorDB: a range index on graph nodes by id (MERGE and every lookup) (no IF NOT EXISTS: "already indexed" is expected).
CREATE INDEX FOR (n:GmNode) ON (n.id)
