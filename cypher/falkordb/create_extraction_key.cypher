// FalkorDB: a range index on the extraction cache, by key (no IF NOT EXISTS: "already indexed" is expected).
CREATE INDEX FOR (x:GmExtraction) ON (x.key)
