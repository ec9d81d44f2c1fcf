// Drop a namespace's projection from the GDS graph catalog (no error when absent).
// @param graph
CALL gds.graph.drop($graph, false) YIELD graphName
RETURN graphName
