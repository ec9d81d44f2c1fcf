// Nodes per kind in a namespace (stubs have no kind), and failed passages.
// @param ns
MATCH (n:GmNode {namespace: $ns})
RETURN n.kind AS kind, count(*) AS nodes,
  sum(CASE WHEN n.status = 'failed' THEN 1 ELSE 0 END) AS failed
