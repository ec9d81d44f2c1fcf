// Wait until new indexes are online (a vector index populates in the background).
// @param seconds
CALL db.awaitIndexes($seconds)
