// Labels that have a vector index on `embedding`.
CALL db.indexes() YIELD label, types
WITH label, types
WHERE 'VECTOR' IN coalesce(types.embedding, [])
RETURN label
