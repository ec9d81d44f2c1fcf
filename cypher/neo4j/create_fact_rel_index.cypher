// The RELATES relationship of a fact, found by the fact's id.
CREATE INDEX gm_relates_fact IF NOT EXISTS
FOR ()-[r:RELATES]-() ON (r.fact_id)
