// The number of relationships of each id (see cypher/neo4j/degrees.cypher): FalkorDB's
// indegree and outdegree read it without walking the relationships.
// @param ns
// @param ids
UNWIND $ids AS nid
MATCH (n:GmNode {namespace: $ns, id: nid})
RETURN nid, indegree(n) + outdegree(n) AS degree
