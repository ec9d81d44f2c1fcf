// Forget a deleted namespace.
// @param ns
MATCH (s:GmNamespace {name: $ns})
DELETE s
