// One current lifecycle state per node; MERGE relies on this constraint's index.
CREATE CONSTRAINT gm_state_key IF NOT EXISTS
FOR (s:GmState) REQUIRE (s.namespace, s.node) IS UNIQUE
