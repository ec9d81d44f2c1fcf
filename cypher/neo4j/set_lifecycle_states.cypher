// Record each node's current lifecycle state (one row per node).
// @param ns
// @param rows
UNWIND $rows AS row
MERGE (s:GmState {namespace: $ns, node: row.node})
SET s.kind = row.kind, s.state = row.state, s.since = row.at
