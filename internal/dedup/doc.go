// Package dedup owns duplicate detection for documents: exact duplicates
// by a SHA-256 fingerprint of normalised content ([Fingerprint]), and near
// duplicates by MinHash signatures with LSH banding ([Index]).
//
// Fingerprints are computed over [normalize.Collapse] of the text: NFKC,
// control characters dropped and all whitespace collapsed to single spaces.
// Case is kept: "Refund policy" and "REFUND POLICY" are different content
// for a training set, and case-only variants are caught by the near-duplicate
// pass, which lower-cases before shingling.
//
// Near-duplicate detection shingles the text (word or character k-grams),
// computes a MinHash signature of P hash permutations, groups documents whose
// signatures agree on a whole band of r rows (b bands, b×r ≤ P), verifies
// each candidate pair by the fraction of equal signature positions (the
// MinHash estimate of Jaccard similarity), and joins verified pairs into
// clusters with union-find. One document per cluster is kept (the earliest
// added, or the longest) and the rest are reported as drops.
package dedup
