// Which of these nodes some passage or episode outside `gone` still STATES or gives EVIDENCE for.
// @param ns
// @param ids
// @param gone
UNWIND $ids AS nid
MATCH (n:GmNode {namespace: $ns, id: nid})<-[:STATES|EVIDENCE]-(src:GmNode)
WHERE NOT src.id IN $gone
RETURN DISTINCT nid AS id
