// The embedding cache: insert (model, text hash) -> vector (FalkorDB's float32 vector type).
// @param model
// @param rows
UNWIND $rows AS row
MERGE (v:GmVector {model: $model, key: row.key})
ON CREATE SET v.vector = vecf32(row.vector)
