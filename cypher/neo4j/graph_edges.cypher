// Every PageRank edge of a namespace, each once, from its stored start to its end.
// @param ns
// @param weights
MATCH (a:GmNode {namespace: $ns})-[r]->(b:GmNode)
WHERE
  a <> b
  AND type(r) IN keys($weights)
  AND (type(r) <> 'RELATES' OR r.active)
  AND NOT (type(r) = 'EVIDENCE' AND b.id STARTS WITH 'f:')
RETURN a.id AS src, b.id AS dst, $weights[type(r)] * r.weight AS weight
