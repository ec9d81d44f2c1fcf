// Give the namespace's nodes that still lack an embedding the vectors that arrived now.
// @param ns
// @param model
// @param keys
UNWIND $keys AS key
MATCH (v:GmVector {model: $model, key: key})
MATCH (n:GmNode {namespace: $ns, embed_key: key})
WHERE n.embedding IS NULL
SET n.embedding = v.vector
