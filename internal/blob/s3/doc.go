// Package s3 stores blobs in any S3-compatible service (AWS S3, MinIO, R2,
// GCS interoperability) under PREFIX/sha256/ab/cdef…. A Put streams the
// content to a temporary key while hashing it, then copies it server-side
// to its digest key and removes the temporary key, so a reader never sees a
// partial blob under a digest key.
package s3
