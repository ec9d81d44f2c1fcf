// Which of these passage ids exist, with their status.
// @param ns
// @param ids
UNWIND $ids AS nid
MATCH (n:GmNode {namespace: $ns, id: nid})
WHERE n:Passage
RETURN n.id AS id, n.status AS status
