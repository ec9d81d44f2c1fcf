// The recorded lifecycle events of some nodes, in the order recorded.
// @param ns
// @param ids
MATCH (e:GmLifecycle {namespace: $ns})
WHERE e.node IN $ids
RETURN e.node, e.kind, e.event, e.state, e.at, e.reason, e.actor, e.data
ORDER BY e.stamp, e.seq
