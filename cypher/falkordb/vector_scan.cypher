// Exact nearest nodes of one kind within one namespace, by scanning it (see the neo4j file;
// FalkorDB has a cosine distance: similarity = 1 - distance).
// @param ns
// @param k
// @param queries
// @template KIND
UNWIND $queries AS q
MATCH (n:__KIND__)
WHERE n.namespace = $ns AND n.embedding IS NOT NULL
WITH q, n, 1 - vec.cosineDistance(n.embedding, vecf32(q.vector)) AS score
ORDER BY score DESC
WITH q, collect([n.id, score])[..$k] AS top
RETURN q.i AS i, top
