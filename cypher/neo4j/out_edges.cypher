// Stored edges leaving these nodes: (src, type, dst).
// @param ns
// @param ids
UNWIND $ids AS nid
MATCH (n:GmNode {namespace: $ns, id: nid})-[r]->(m:GmNode)
WHERE type(r) <> 'RELATES'
RETURN nid AS src, type(r) AS type, m.id AS dst
