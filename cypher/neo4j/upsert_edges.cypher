// Edges of one type: unique on (type, src, dst); an existing edge keeps the larger weight,
// and its properties unless new ones are given. Missing ends are created as stubs.
// @param ns
// @param rows
// @template TYPE
UNWIND $rows AS row
MERGE (a:GmNode {namespace: $ns, id: row.src})
MERGE (b:GmNode {namespace: $ns, id: row.dst})
MERGE (a)-[r:__TYPE__]->(b)
ON CREATE SET r.weight = row.weight, r.props = row.props
ON MATCH SET
  r.weight = CASE WHEN row.weight > r.weight THEN row.weight ELSE r.weight END,
  r.props = CASE WHEN row.props = '{}' THEN r.props ELSE row.props END
