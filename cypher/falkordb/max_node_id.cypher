// The largest internal node id (pages of a whole-graph read are internal-id ranges).
MATCH (n)
RETURN max(id(n)) AS top
