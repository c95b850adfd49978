// Package dataset owns whet's dataset records and versions: the record
// kinds (documents, instruction, preference, chat), JSONL import with
// per-line JSON Schema validation (OpenAI chat, ShareGPT and Alpaca files are
// converted on the way in), canonical content-addressed manifests whose
// SHA-256 is a version's lineage hash, semantic version URIs
// (ds://project/name@1.2.0), deterministic splits, weighted mixing and the
// generated dataset card.
//
// Everything here is pure: storage of manifests and records is the caller's
// (the metadata store and the blob store), so the same inputs always give
// byte-identical manifests wherever they are computed.
package dataset
