// The full-text (Lucene, BM25) index over episode text, for text_search(kind="episode"); the
// same analyzer as the passages' index.
CREATE FULLTEXT INDEX gm_fulltext_Episode IF NOT EXISTS
FOR (n:Episode) ON EACH [n.text]
OPTIONS {indexConfig: {`fulltext.analyzer`: 'english'}}
