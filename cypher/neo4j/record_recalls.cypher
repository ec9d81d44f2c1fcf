// Count one retrieval of each node; a node with no state yet gets '' (its fields decide).
// @param ns
// @param ids
// @param at
UNWIND $ids AS id
MERGE (s:GmState {namespace: $ns, node: id})
ON CREATE SET s.kind = '', s.state = '', s.since = $at, s.recalls = 0
SET s.recalls = coalesce(s.recalls, 0) + 1, s.last_recalled = $at
