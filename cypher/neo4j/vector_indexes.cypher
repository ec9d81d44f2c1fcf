// Names of the online vector indexes.
SHOW VECTOR INDEXES YIELD name, state
WHERE state = 'ONLINE'
RETURN name
