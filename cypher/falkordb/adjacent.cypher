// PageRank-graph neighbours of each id (see cypher/neo4j/adjacent.cypher), as one JSON text:
// far cheaper to send and parse than a row per neighbour.
// @param ns
// @param ids
// @param weights
UNWIND $ids AS nid
MATCH (n:GmNode {namespace: $ns, id: nid})-[r]-(m:GmNode)
WHERE
  m <> n
  AND type(r) IN keys($weights)
  AND (type(r) <> 'RELATES' OR r.active)
  AND NOT (type(r) = 'EVIDENCE' AND endNode(r).id STARTS WITH 'f:')
RETURN tojson(collect([nid, m.id, $weights[type(r)] * r.weight])) AS page
