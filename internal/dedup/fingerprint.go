package dedup

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/whet-dev/whet/internal/normalize"
)

// FingerprintPrefix starts every fingerprint string.
const FingerprintPrefix = "sha256:"

// Fingerprint returns "sha256:<64 hex digits>" of the normalised content of
// text (see the package documentation for what normalisation keeps).
// Documents with equal fingerprints are exact duplicates.
func Fingerprint(text string) string {
	sum, _ := fingerprint(text)
	return FingerprintPrefix + hex.EncodeToString(sum[:])
}

// fingerprint returns the digest and the length of the normalised content.
func fingerprint(text string) ([32]byte, int) {
	c := normalize.Collapse(text)
	return sha256.Sum256([]byte(c)), len(c)
}
