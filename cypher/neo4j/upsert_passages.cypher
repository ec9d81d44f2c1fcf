// Passages: insert; an existing passage takes only the new outcome (status, error, metadata)
// and the sources it did not have yet (row.sources, in order; the first is its display source).
// A stub an earlier edge created (see promote_stubs) is filled in.
// Unchanged passages are not written again (a write re-indexes the node's embedding), and
// every change is one SET clause after the filter (FalkorDB loses a SET that a later filter drops).
// @param ns
// @param model
// @param rows
UNWIND $rows AS row
MERGE (n:GmNode:Passage {namespace: $ns, id: row.id})
WITH n, row, n.kind IS NULL AS fresh
WHERE
  fresh
  OR n.status <> row.props.status
  OR coalesce(n.error, '') <> coalesce(row.props.error, '')
  OR n.metadata <> row.props.metadata
  OR ($model IS NOT NULL AND n.embedding IS NULL)
  OR any(s IN row.sources WHERE NOT s IN coalesce(n.sources, []))
OPTIONAL MATCH (v:GmVector {model: $model, key: coalesce(n.embed_key, row.props.embed_key)})
SET
  n += CASE WHEN fresh THEN row.props ELSE {} END,
  n.status = row.props.status,
  n.error = row.props.error,
  n.metadata = row.props.metadata,
  n.embedding = coalesce(n.embedding, v.vector),
  n.sources = coalesce(n.sources, []) + [s IN row.sources WHERE NOT s IN coalesce(n.sources, [])]
