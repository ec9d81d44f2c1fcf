// FalkorDB: a range index on the embedding cache, by text hash (no IF NOT EXISTS: "already indexed" is expected).
CREATE INDEX FOR (v:GmVector) ON (v.key)
