// A fact is also a RELATES relationship from its subject to its object entity, for traversal;
// `active` says whether it is current (PageRank skips invalidated and expired facts).
// @param ns
// @param rows
UNWIND $rows AS row
MERGE (s:GmNode {namespace: $ns, id: row.subject})
MERGE (o:GmNode {namespace: $ns, id: row.object})
MERGE (s)-[r:RELATES {fact_id: row.id}]->(o)
SET r.predicate = row.predicate, r.active = row.active, r.weight = 1.0
