// The number of outgoing relationships of each id, as one JSON text: a lower bound of
// degrees.cypher's count that FalkorDB reads several times faster than indegree (which walks a
// hub's incoming relationships). Local push asks it first and needs the full count only for the
// nodes this bound does not already rule out.
// @param ns
// @param ids
UNWIND $ids AS nid
MATCH (n:GmNode {namespace: $ns, id: nid})
RETURN tojson(collect([nid, outdegree(n)])) AS page
