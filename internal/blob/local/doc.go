// Package local stores blobs in a folder: ROOT/sha256/ab/cdef… where
// "abcdef…" is the hex digest. Writes go to a temporary file under
// ROOT/tmp (same file system), are fsynced and renamed into place, so a
// crash never leaves a partial blob visible.
package local
