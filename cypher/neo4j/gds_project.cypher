// Project a namespace's PageRank graph into GDS (undirected, weighted; the same rules as
// adjacent.cypher and graphmem.store.graph.ppr_edges).
// @param graph
// @param ns
// @param weights
MATCH (a:GmNode {namespace: $ns})-[r]->(b:GmNode)
WHERE
  a <> b
  AND type(r) IN keys($weights)
  AND (type(r) <> 'RELATES' OR r.active)
  AND NOT (type(r) = 'EVIDENCE' AND b.id STARTS WITH 'f:')
WITH
  gds.graph.project(
    $graph,
    a,
    b,
    {relationshipProperties: {weight: $weights[type(r)] * r.weight}},
    {undirectedRelationshipTypes: ['*']}
  ) AS g
RETURN g.graphName AS graph, g.nodeCount AS nodes, g.relationshipCount AS relationships
