// Delete stubs (nodes only an edge created) that no relationship touches any more.
// @param ns
// @param ids
UNWIND $ids AS nid
MATCH (n:GmNode {namespace: $ns, id: nid})
WITH n, [(n)--(m) | m.id] AS around
WHERE n.kind IS NULL AND size(around) = 0
DELETE n
