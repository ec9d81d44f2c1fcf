// Drop the extraction-cache rows whose key starts with one of these prefixes (a deleted
// passage's or episode's, or a whole namespace's: graphmem.store.base.cache_prefix).
// @param prefixes
UNWIND $prefixes AS prefix
MATCH (x:GmExtraction)
WHERE x.key STARTS WITH prefix
DELETE x
