// The Graph Data Science library's version, when the server has it.
RETURN gds.version() AS version
