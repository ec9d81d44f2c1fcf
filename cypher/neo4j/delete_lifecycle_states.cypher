// Delete the lifecycle states of a namespace (when the namespace is deleted).
// @param ns
MATCH (s:GmState {namespace: $ns})
DELETE s
