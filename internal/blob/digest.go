package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// Digest names a blob by content: "sha256:" followed by 64 lowercase hex
// digits.
type Digest string

const digestPrefix = "sha256:"

// ParseDigest validates s and returns it as a Digest. Only the canonical
// lowercase form is accepted, so equal content always has an equal name.
func ParseDigest(s string) (Digest, error) {
	d := Digest(s)
	if err := d.Validate(); err != nil {
		return "", err
	}
	return d, nil
}

// Validate reports whether d is a well-formed sha256 digest.
func (d Digest) Validate() error {
	s := string(d)
	if !strings.HasPrefix(s, digestPrefix) {
		return fmt.Errorf("%w: %q lacks the %q prefix", ErrInvalidDigest, truncate(s), digestPrefix)
	}
	h := s[len(digestPrefix):]
	if len(h) != 2*sha256.Size {
		return fmt.Errorf("%w: %q has %d hex digits, want %d", ErrInvalidDigest, truncate(s), len(h), 2*sha256.Size)
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("%w: %q has a non-lowercase-hex character at %d", ErrInvalidDigest, truncate(s), len(digestPrefix)+i)
		}
	}
	return nil
}

// Hex returns the hex part of d (without the "sha256:" prefix).
func (d Digest) Hex() string { return strings.TrimPrefix(string(d), digestPrefix) }

// String returns d as text.
func (d Digest) String() string { return string(d) }

// FromBytes returns the digest of b.
func FromBytes(b []byte) Digest {
	sum := sha256.Sum256(b)
	return Digest(digestPrefix + hex.EncodeToString(sum[:]))
}

// FromHash returns the digest accumulated in h, which must be a SHA-256
// hash (as from NewHash).
func FromHash(h hash.Hash) Digest {
	return Digest(digestPrefix + hex.EncodeToString(h.Sum(nil)))
}

// NewHash returns the hash used for digests.
func NewHash() hash.Hash { return sha256.New() }

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
