// PageRank-graph neighbours of each id, with weights (rules of graphmem.store.graph.ppr_edges:
// current facts and the weighted edge types, no self-loops, no EVIDENCE into facts).
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
RETURN nid, m.id AS other, $weights[type(r)] * r.weight AS weight
