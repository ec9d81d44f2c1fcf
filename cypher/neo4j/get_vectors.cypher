// Cached embeddings of these text hashes.
// @param model
// @param keys
UNWIND $keys AS key
MATCH (v:GmVector {model: $model, key: key})
RETURN v.key AS key, v.vector AS vector
