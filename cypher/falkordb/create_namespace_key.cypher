// FalkorDB: a range index on namespace records (no IF NOT EXISTS: "already indexed" is expected).
CREATE INDEX FOR (s:GmNamespace) ON (s.name)
