// One record per embedding model: its dimension.
CREATE CONSTRAINT gm_model_key IF NOT EXISTS
FOR (m:GmModel) REQUIRE m.name IS UNIQUE
