// Passages that lose one source but keep others: their remaining sources, display source and JSON.
// @param ns
// @param rows
UNWIND $rows AS row
MATCH (n:GmNode:Passage {namespace: $ns, id: row.id})
SET n.sources = row.sources, n.source = row.source, n.data = row.data
