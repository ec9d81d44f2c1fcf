// Record an embedding model's dimension.
// @param model
// @param dim
MERGE (m:GmModel {name: $model})
ON CREATE SET m.dim = $dim
