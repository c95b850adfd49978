// Package rag owns whet's retrieval: structure-aware parent-child chunking,
// an analyzed BM25 inverted index, an HNSW vector index, hybrid fusion
// (reciprocal rank and normalised weighted), cross-encoder re-ranking under a
// time budget, metadata / source / access-tag filters, and a versioned on-disk
// Index that keeps serving its last committed version while an upsert runs.
//
// Embeddings and re-ranking scores come through the small Embedder and
// Reranker interfaces, so the native encoder or any OpenAI-compatible
// embeddings upstream can back them.
package rag
