// Ids of the nodes of a namespace whose recorded lifecycle state is $state.
// @param ns
// @param state
MATCH (s:GmState {namespace: $ns, state: $state})
RETURN s.node AS id
ORDER BY id
