// Nodes of one kind by id: the stored model (JSON) and the fields that change after insert.
// @param ns
// @param ids
// @template KIND
UNWIND $ids AS nid
MATCH (n:GmNode {namespace: $ns, id: nid})
WHERE n:__KIND__
RETURN n.id AS id, n.data AS data, n.status AS status, n.error AS error,
  n.metadata AS metadata, n.type AS type, n.aliases AS aliases, n.name AS name,
  n.normalized AS normalized
