// The full-text (Lucene, BM25) index over passage text, for text_search; the English analyzer
// lowercases, drops stop words and stems, as the embedded store's porter tokenizer does.
CREATE FULLTEXT INDEX gm_fulltext_Passage IF NOT EXISTS
FOR (n:Passage) ON EACH [n.text]
OPTIONS {indexConfig: {`fulltext.analyzer`: 'english'}}
