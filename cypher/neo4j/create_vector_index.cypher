// The native vector index over one node kind's embeddings (cosine).
// @param dimensions
// @template KIND
CREATE VECTOR INDEX gm_vector___KIND__ IF NOT EXISTS
FOR (n:__KIND__) ON (n.embedding)
OPTIONS {indexConfig: {`vector.dimensions`: $dimensions, `vector.similarity_function`: 'cosine'}}
