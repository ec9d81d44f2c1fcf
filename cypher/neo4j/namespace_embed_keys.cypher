// The text hashes (embed keys) of every node of a namespace, read before deleting it.
// @param ns
MATCH (n:GmNode {namespace: $ns})
WHERE n.embed_key IS NOT NULL
RETURN DISTINCT n.embed_key AS key
