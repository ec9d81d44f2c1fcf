// FalkorDB: the full-text (RediSearch) index over passage text, English stemming and stop words
// (no IF NOT EXISTS: "already indexed" is expected).
CALL db.idx.fulltext.createNodeIndex('Passage', 'text')
