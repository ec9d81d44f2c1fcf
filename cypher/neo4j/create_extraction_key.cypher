// The extraction cache is keyed by (passage hash, extractor, version), folded into one key.
CREATE CONSTRAINT gm_extraction_key IF NOT EXISTS
FOR (x:GmExtraction) REQUIRE x.key IS UNIQUE
