// One page of the ids of one node kind in a namespace, ascending: ids from $start on, except
// those in $exclude, at most $limit. list_ids(after=x) sends start = x and exclude = [x], so
// the page begins strictly after x; after=None sends start = '' and exclude = [] (every id).
// A range on the (namespace, id) node key, so Neo4j reads it in index order. Facts are listed as
// their Fact nodes (kind 'fact'), never as their RELATES relationships; stubs have no kind.
// @param ns
// @param kind
// @param start
// @param exclude
// @param limit
MATCH (n:GmNode {namespace: $ns})
WHERE n.id >= $start AND n.kind = $kind AND NOT n.id IN $exclude
RETURN n.id AS id
ORDER BY n.id
LIMIT $limit
