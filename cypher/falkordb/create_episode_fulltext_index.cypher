// FalkorDB: the full-text (RediSearch) index over episode text, as create_fulltext_index's over
// passages (no IF NOT EXISTS: "already indexed" is expected).
CALL db.idx.fulltext.createNodeIndex('Episode', 'text')
