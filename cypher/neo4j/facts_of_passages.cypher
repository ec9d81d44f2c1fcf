// passage id -> ids of the facts it STATES.
// @param ns
// @param ids
UNWIND $ids AS pid
MATCH (p:GmNode {namespace: $ns, id: pid})-[:STATES]->(f:Fact)
RETURN pid, f.id AS fact
