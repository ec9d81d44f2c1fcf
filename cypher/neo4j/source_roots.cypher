// The passages and episodes of one source: by their (display) source, and passages that list it
// among their other sources; with every source each has.
// @param ns
// @param source
MATCH (n:GmNode {namespace: $ns, source: $source})
WHERE n:Passage OR n:Episode
RETURN n.id AS id, n.kind AS kind, coalesce(n.sources, [n.source]) AS sources
UNION
MATCH (n:Passage {namespace: $ns})
WHERE $source IN n.sources AND n.source <> $source
RETURN n.id AS id, n.kind AS kind, n.sources AS sources
