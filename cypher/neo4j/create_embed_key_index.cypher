// Nodes whose embedding text has a given hash (attaching vectors that arrive later).
CREATE INDEX gm_node_embed_key IF NOT EXISTS
FOR (n:GmNode) ON (n.namespace, n.embed_key)
