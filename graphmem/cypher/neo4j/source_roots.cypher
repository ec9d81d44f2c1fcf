// The passages and episodes of one source.
// @param ns
// @param source
MATCH (n:GmNode {namespace: $ns, source: $source})
WHERE n:Passage OR n:Episode
RETURN n.id AS id, n.kind AS kind
