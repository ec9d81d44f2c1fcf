// The distinct sources of a namespace's passages and episodes that start with a prefix.
// @param ns
// @param prefix
MATCH (n:GmNode {namespace: $ns})
WHERE (n:Passage OR n:Episode) AND n.source STARTS WITH $prefix
RETURN DISTINCT n.source AS source
ORDER BY source
