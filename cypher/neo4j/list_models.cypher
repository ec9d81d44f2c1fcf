// Every embedding model with vectors in this store, and its dimension.
MATCH (m:GmModel)
RETURN m.name AS name, m.dim AS dim
