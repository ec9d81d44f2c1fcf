// Scans of one namespace: stats, the whole-graph projection, deleting a namespace.
CREATE INDEX gm_node_namespace IF NOT EXISTS
FOR (n:GmNode) ON (n.namespace)
