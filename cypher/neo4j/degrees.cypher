// The number of relationships of each id: its PageRank degree when every weight is 1, and an
// upper bound of it otherwise (weights are at most 1 unless an edge says more). Local push asks
// for it before fetching a node, to leave hubs whose residual is small for their degree
// unfetched; it must not cost a hub's whole neighbourhood, hence a count, not a sum of weights.
// @param ns
// @param ids
UNWIND $ids AS nid
MATCH (n:GmNode {namespace: $ns, id: nid})
RETURN nid, COUNT { (n)--() } AS degree
