// One page (an internal-id range) of a namespace's nodes of the given kinds, as one JSON text.
// @param ns
// @param kinds
// @param lo
// @param hi
MATCH (n:GmNode)
WHERE id(n) >= $lo AND id(n) < $hi AND n.namespace = $ns AND n.kind IN $kinds
RETURN tojson(collect(n.id)) AS page
