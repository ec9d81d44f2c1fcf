// Cached extractions of these keys.
// @param keys
UNWIND $keys AS key
MATCH (x:GmExtraction {key: key})
RETURN x.key AS key, x.value AS value
