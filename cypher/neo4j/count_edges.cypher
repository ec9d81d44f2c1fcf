// Stored edges of a namespace (facts' RELATES relationships are not stored edges).
// @param ns
MATCH (:GmNode {namespace: $ns})-[r]->()
WHERE type(r) <> 'RELATES'
RETURN count(r) AS edges
