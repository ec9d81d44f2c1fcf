// Facts, events, hyperedges, episodes: insert, or replace the stored node with this one.
// The embedding follows the text: a changed text drops the old vector until its own arrives.
// Unchanged nodes are not written again (a write re-indexes the node's embedding), and every
// change is one SET clause after the filter (FalkorDB loses a SET that a later filter drops).
// @param ns
// @param model
// @param rows
// @template KIND
UNWIND $rows AS row
MERGE (n:GmNode:__KIND__ {namespace: $ns, id: row.id})
WITH n, row
WHERE
  n.kind IS NULL
  OR n.data <> row.props.data
  OR ($model IS NOT NULL AND n.embedding IS NULL)
OPTIONAL MATCH (v:GmVector {model: $model, key: row.props.embed_key})
SET
  n += row.props,
  n.embedding =
    CASE
      WHEN v IS NOT NULL THEN v.vector
      WHEN n.embed_key = row.props.embed_key THEN n.embedding
      ELSE null
    END
