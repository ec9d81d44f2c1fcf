// Delete the RELATES relationships of these facts.
// @param ns
// @param ids
UNWIND $ids AS fid
MATCH (a:GmNode)-[r:RELATES {fact_id: fid}]->(:GmNode)
WHERE a.namespace = $ns
DELETE r
