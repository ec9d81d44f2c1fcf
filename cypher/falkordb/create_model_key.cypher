// FalkorDB: a range index on embedding-model records (no IF NOT EXISTS: "already indexed" is expected).
CREATE INDEX FOR (m:GmModel) ON (m.name)
