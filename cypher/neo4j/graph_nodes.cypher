// Ids of a namespace's nodes of the given kinds (the PageRank graph's nodes).
// @param ns
// @param kinds
MATCH (n:GmNode {namespace: $ns})
WHERE n.kind IN $kinds
RETURN n.id AS id
