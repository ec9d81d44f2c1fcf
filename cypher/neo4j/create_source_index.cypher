// Passages and episodes of one source (delete by source).
CREATE INDEX gm_node_source IF NOT EXISTS
FOR (n:GmNode) ON (n.namespace, n.source)
