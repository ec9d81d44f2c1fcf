// FalkorDB: the RELATES relationship of a fact, by the fact's id.
CREATE INDEX FOR ()-[r:RELATES]-() ON (r.fact_id)
