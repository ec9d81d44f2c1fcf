// Facts whose subject or object is one of these entities (found through RELATES).
// @param ns
// @param ids
UNWIND $ids AS eid
MATCH (e:GmNode {namespace: $ns, id: eid})-[r:RELATES]-()
WITH DISTINCT r.fact_id AS fid
MATCH (f:GmNode {namespace: $ns, id: fid})
WHERE f:Fact
RETURN f.data AS data
