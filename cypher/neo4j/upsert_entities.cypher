// Entities: insert; an existing entity gains the new aliases, and a type if it had none.
// Unchanged entities are not written again (a write re-indexes the node's embedding), and
// every change is one SET clause after the filter (FalkorDB loses a SET that a later filter drops).
// @param ns
// @param model
// @param rows
UNWIND $rows AS row
MERGE (n:GmNode:Entity {namespace: $ns, id: row.id})
WITH n, row, n.kind IS NULL AS fresh, coalesce(n.aliases, []) AS known
WITH n, row, fresh, known, [a IN row.aliases WHERE NOT a IN known AND a <> n.name] AS extra
WHERE
  fresh
  OR size(extra) > 0
  OR (n.type IS NULL AND row.props.type IS NOT NULL)
  OR ($model IS NOT NULL AND n.embedding IS NULL)
OPTIONAL MATCH (v:GmVector {model: $model, key: coalesce(n.embed_key, row.props.embed_key)})
SET
  n += CASE WHEN fresh THEN row.props ELSE {} END,
  n.type = coalesce(n.type, row.props.type),
  n.aliases = CASE WHEN fresh THEN row.props.aliases ELSE known + extra END,
  n.embedding = coalesce(n.embedding, v.vector)
