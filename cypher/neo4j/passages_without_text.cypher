// A page of passages stored before their text was a property (the full-text index reads it).
// @param limit
MATCH (n:Passage)
WHERE n.text IS NULL AND n.data IS NOT NULL
RETURN n.namespace AS ns, n.id AS id, n.data AS data
LIMIT $limit
