// Passages stored before they kept every source: their one source becomes their list.
MATCH (n:Passage)
WHERE n.sources IS NULL AND n.source IS NOT NULL
SET n.sources = [n.source]
