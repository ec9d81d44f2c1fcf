// One page (an internal-id range of start nodes) of a namespace's PageRank edges, as one JSON
// text: far cheaper to send and parse than a row per edge.
// @param ns
// @param weights
// @param lo
// @param hi
MATCH (a:GmNode)
WHERE id(a) >= $lo AND id(a) < $hi AND a.namespace = $ns
MATCH (a)-[r]->(b:GmNode)
WHERE
  a <> b
  AND type(r) IN keys($weights)
  AND (type(r) <> 'RELATES' OR r.active)
  AND NOT (type(r) = 'EVIDENCE' AND b.id STARTS WITH 'f:')
RETURN tojson(collect([a.id, b.id, $weights[type(r)] * r.weight])) AS page
