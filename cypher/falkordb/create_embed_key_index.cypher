// FalkorDB: a range index on nodes by the hash of their embedding text (no IF NOT EXISTS: "already indexed" is expected).
CREATE INDEX FOR (n:GmNode) ON (n.embed_key)
