// The text hashes (embed keys) of these nodes' embeddings, read before a delete to purge the
// vectors no node uses any more.
// @param ns
// @param ids
UNWIND $ids AS nid
MATCH (n:GmNode {namespace: $ns, id: nid})
WHERE n.embed_key IS NOT NULL
RETURN DISTINCT n.embed_key AS key
