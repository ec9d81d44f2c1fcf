// Record more sources of passages already stored (the same text from another file).
// @param ns
// @param rows
UNWIND $rows AS row
MATCH (n:GmNode:Passage {namespace: $ns, id: row.id})
WHERE NOT row.source IN coalesce(n.sources, [])
SET n.sources = coalesce(n.sources, []) + [row.source]
