// A fact whose subject or object changed loses its old RELATES relationship.
// @param ns
// @param rows
UNWIND $rows AS row
MATCH ()-[old:RELATES {fact_id: row.id}]->()
WHERE
  startNode(old).namespace = $ns
  AND (startNode(old).id <> row.subject OR endNode(old).id <> row.object)
DELETE old
