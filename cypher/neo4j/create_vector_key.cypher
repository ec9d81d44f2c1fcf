// The embedding cache is keyed by (model, text hash).
CREATE CONSTRAINT gm_vector_key IF NOT EXISTS
FOR (v:GmVector) REQUIRE (v.model, v.key) IS UNIQUE
