// Exact nearest nodes of one kind within one namespace, by scanning it: for a namespace too
// small a share of the vector index for the index's global top k to reach (Neo4j's cosine
// similarity function is (1 + cosine) / 2).
// @param ns
// @param k
// @param queries
// @template KIND
UNWIND $queries AS q
MATCH (n:__KIND__)
WHERE n.namespace = $ns AND n.embedding IS NOT NULL
WITH q, n, 2 * vector.similarity.cosine(n.embedding, q.vector) - 1 AS score
ORDER BY score DESC
WITH q, collect([n.id, score])[..$k] AS top
RETURN q.i AS i, top
