// The number of relationships of each id (see cypher/neo4j/degrees.cypher), as one JSON text:
// cheaper to send and parse than a row per id. FalkorDB's indegree walks the relationships (about
// a microsecond each), so a hub's probe costs its degree; counting only the PageRank types would
// be tighter but lets more passages through to be fetched, which costs more than it saves.
// @param ns
// @param ids
UNWIND $ids AS nid
MATCH (n:GmNode {namespace: $ns, id: nid})
RETURN tojson(collect([nid, indegree(n) + outdegree(n)])) AS page
