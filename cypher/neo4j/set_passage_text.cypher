// Give passages their text as a property, so the full-text index covers them.
// @param rows
UNWIND $rows AS row
MATCH (n:GmNode:Passage {namespace: row.ns, id: row.id})
SET n.text = row.text
