// Stored edges touching these nodes, either end (RELATES is a fact, not a stored edge).
// @param ns
// @param ids
UNWIND $ids AS nid
MATCH (n:GmNode {namespace: $ns, id: nid})-[r]-(:GmNode)
WHERE type(r) <> 'RELATES'
RETURN DISTINCT type(r) AS type, startNode(r).id AS src, endNode(r).id AS dst,
  r.weight AS weight, r.props AS props
