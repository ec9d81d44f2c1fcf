// The embedding cache: insert (model, text hash) -> vector; an existing entry is kept.
// @param model
// @param rows
UNWIND $rows AS row
MERGE (v:GmVector {model: $model, key: row.key})
ON CREATE SET v.vector = row.vector
