// Delete every node of a namespace and every relationship touching them.
// @param ns
MATCH (n:GmNode {namespace: $ns})
DETACH DELETE n
