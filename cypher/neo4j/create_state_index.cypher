// The nodes of one namespace in one lifecycle state (archived ones leave default search).
CREATE INDEX gm_state_state IF NOT EXISTS
FOR (s:GmState) ON (s.namespace, s.state)
