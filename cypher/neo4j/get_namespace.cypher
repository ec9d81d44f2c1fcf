// The namespace's record: its embedding model (null until it holds embedded nodes).
// @param ns
MATCH (s:GmNamespace {name: $ns})
RETURN s.embedding_model AS model
