// Lifecycle events (issue 22) of one node: its history.
CREATE INDEX gm_lifecycle_node IF NOT EXISTS
FOR (e:GmLifecycle) ON (e.namespace, e.node)
