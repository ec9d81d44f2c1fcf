// Episodes of one namespace matching a full-text query (words OR-ed, see store/lexical.py),
// best BM25 score first. The index covers every namespace: the filter keeps this one's.
// @param query
// @param ns
// @param k
CALL db.index.fulltext.queryNodes('gm_fulltext_Episode', $query) YIELD node, score
WHERE node.namespace = $ns
RETURN node.id AS id, score
ORDER BY score DESC, id
LIMIT $k
