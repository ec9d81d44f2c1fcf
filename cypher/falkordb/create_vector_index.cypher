// FalkorDB's vector index over one node kind's embeddings (cosine; a wider search beam than
// the default efRuntime of 10, so top-200 searches stay close to exact).
// @param dimensions
// @template KIND
CREATE VECTOR INDEX FOR (n:__KIND__) ON (n.embedding)
OPTIONS {dimension: $dimensions, similarityFunction: 'cosine', M: 32, efConstruction: 200, efRuntime: 200}
