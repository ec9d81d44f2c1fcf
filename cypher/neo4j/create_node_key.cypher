// Every graph node is keyed by (namespace, id); MERGE relies on this constraint's index.
CREATE CONSTRAINT gm_node_key IF NOT EXISTS
FOR (n:GmNode) REQUIRE (n.namespace, n.id) IS UNIQUE
