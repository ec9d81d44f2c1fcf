// Passages whose extraction failed, oldest first.
// @param ns
// @param limit
MATCH (n:GmNode {namespace: $ns})
WHERE n:Passage AND n.status = 'failed'
RETURN n.id AS id, n.data AS data, n.status AS status, n.error AS error,
  n.metadata AS metadata, n.type AS type, n.aliases AS aliases, n.name AS name,
  n.normalized AS normalized
ORDER BY n.created_ts, n.id
LIMIT $limit
