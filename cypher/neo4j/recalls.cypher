// How often, and when last, each of some nodes was retrieved.
// @param ns
// @param ids
MATCH (s:GmState {namespace: $ns})
WHERE s.node IN $ids AND s.recalls > 0
RETURN s.node, s.recalls, s.last_recalled
