// The recorded lifecycle state of some nodes ('' marks a node only counted as recalled).
// @param ns
// @param ids
MATCH (s:GmState {namespace: $ns})
WHERE s.node IN $ids AND s.state <> ''
RETURN s.node, s.state
