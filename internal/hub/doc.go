// Package hub resolves model references of the form hf://org/name[@revision]
// against a Hugging Face-compatible endpoint and keeps what it downloads in a
// content-addressed cache, so that base models and adapters can be named by
// their hub id anywhere a local model folder is accepted.
//
// The package owns the cache folder it is given:
//
//	CACHE/blobs/sha256/ab/abcdef…             file contents, named by SHA-256, read-only
//	CACHE/repos/org--name/refs/REV            the commit REV last resolved to
//	CACHE/repos/org--name/snapshots/COMMIT/F  F as of COMMIT: a link to its blob (or a copy)
//	CACHE/repos/org--name/manifests/COMMIT.json  the commit's remote file list and digests
//	CACHE/tmp/KEY.part, KEY.lock              resumable downloads and their locks
//
// Downloads are resumed with HTTP Range requests, verified against the
// hub's digests (SHA-256 of LFS files, the git blob SHA-1 of small files) and
// renamed into place, so a crash never leaves a half-written file visible
// and concurrent resolvers (goroutines or processes) share the work through
// file locks (flock where the platform has it; lock files are kept, as
// removing them would race). Only the files a whet model needs are fetched
// (see Pull).
package hub
