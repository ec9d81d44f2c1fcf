// The extraction cache: key -> JSON text (replaced).
// @param rows
UNWIND $rows AS row
MERGE (x:GmExtraction {key: row.key})
SET x.value = row.value
