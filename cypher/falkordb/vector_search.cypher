// Nearest nodes of one label (FalkorDB's score is the cosine distance: similarity = 1 - score).
// @param label
// @param k
// @param queries
UNWIND $queries AS q
CALL db.idx.vector.queryNodes($label, 'embedding', $k, vecf32(q.vector)) YIELD node, score
RETURN q.i AS i, node.namespace AS ns, node.id AS id, 1 - score AS score
