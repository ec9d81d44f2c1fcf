// Record a namespace; its embedding model is set once, by the first batch with nodes.
// @param ns
// @param model
// @param now
MERGE (s:GmNamespace {name: $ns})
ON CREATE SET s.created_at = $now
SET s.embedding_model = coalesce(s.embedding_model, $model)
