// Delete these nodes and every relationship touching them.
// @param ns
// @param ids
UNWIND $ids AS nid
MATCH (n:GmNode {namespace: $ns, id: nid})
DETACH DELETE n
