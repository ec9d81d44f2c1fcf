// Namespaces written to (and not deleted).
MATCH (s:GmNamespace)
RETURN s.name AS name
ORDER BY name
