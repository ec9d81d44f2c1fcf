// Nearest nodes in one vector index (Neo4j's cosine score is (1 + similarity) / 2).
// @param index
// @param k
// @param queries
UNWIND $queries AS q
CALL db.index.vector.queryNodes($index, $k, q.vector) YIELD node, score
RETURN q.i AS i, node.namespace AS ns, node.id AS id, 2 * score - 1 AS score
