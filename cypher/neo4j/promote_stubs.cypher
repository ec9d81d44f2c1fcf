// A stub (a node an edge created before the node itself was written) takes its kind's label,
// so the MERGE on both labels that follows finds it instead of making a second node.
// @param ns
// @param ids
// @template KIND
UNWIND $ids AS nid
MATCH (n:GmNode {namespace: $ns, id: nid})
WHERE n.kind IS NULL
SET n:__KIND__
