// Package blob owns whet's content-addressed object storage: raw documents,
// dataset shards, checkpoints and adapters are stored once under their
// SHA-256 digest and read back with the digest verified.
//
// The Store interface is implemented by subpackages: blob/local (a folder,
// the embedded default) and blob/s3 (any S3-compatible service). They
// register themselves with Register so that Open can pick one from a URL;
// the composition root imports them.
package blob
