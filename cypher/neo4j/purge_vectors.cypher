// Drop the cached vectors (of every model given) of these text hashes that no stored node of
// any namespace uses any more; run after the nodes were deleted.
// @param keys
// @param models
UNWIND $keys AS key
OPTIONAL MATCH (n:GmNode {embed_key: key})
WITH key, count(n) AS users
WHERE users = 0
UNWIND $models AS model
MATCH (v:GmVector {model: model, key: key})
DELETE v
