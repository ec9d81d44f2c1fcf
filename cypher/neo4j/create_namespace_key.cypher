// One record per namespace: its embedding model.
CREATE CONSTRAINT gm_namespace_key IF NOT EXISTS
FOR (s:GmNamespace) REQUIRE s.name IS UNIQUE
