// Kind, stored model (JSON) and ends or members of these nodes.
// @param ns
// @param ids
UNWIND $ids AS nid
MATCH (n:GmNode {namespace: $ns, id: nid})
RETURN n.id AS id, n.kind AS kind, n.subject AS subject, n.object AS object,
  n.members AS members
