// Personalized PageRank in GDS from weighted seed nodes.
// @param graph
// @param ns
// @param seeds
// @param damping
// @param tol
// @param max_iter
UNWIND $seeds AS seed
MATCH (s:GmNode {namespace: $ns, id: seed.id})
WITH collect([s, seed.weight]) AS sources
CALL gds.pageRank.stream(
  $graph,
  {
    sourceNodes: sources,
    dampingFactor: $damping,
    tolerance: $tol,
    maxIterations: $max_iter,
    relationshipWeightProperty: 'weight'
  }
)
YIELD nodeId, score
RETURN gds.util.asNode(nodeId).id AS id, score
