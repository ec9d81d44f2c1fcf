// Which of these entities something outside `gone` still refers to: a MENTIONS, EVIDENCE,
// CONNECTS or INVOLVES edge, or a fact with it as subject or object.
// @param ns
// @param ids
// @param gone
UNWIND $ids AS eid
MATCH (e:GmNode {namespace: $ns, id: eid})
WITH
  eid,
  [(e)<-[:MENTIONS|EVIDENCE|CONNECTS|INVOLVES]-(s:GmNode) | s.id] AS sources,
  [(e)-[r:RELATES]-(:GmNode) | r.fact_id] AS facts
WHERE any(x IN sources WHERE NOT x IN $gone) OR any(x IN facts WHERE NOT x IN $gone)
RETURN eid AS id
