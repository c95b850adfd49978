package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/whet-dev/whet/internal/store"
)

// TokenPrefix starts every API-key token.
const TokenPrefix = "whet_"

// ErrMalformedToken reports a string that is not a whet API-key token.
var ErrMalformedToken = errors.New("auth: malformed API key token")

const secretAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

// NewSecret returns a 32-character random secret (about 187 bits).
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	for i := range b {
		b[i] = secretAlphabet[int(b[i])%len(secretAlphabet)]
	}
	return string(b)
}

// NewKey returns a fresh key id ("key_…"), its secret and the token
// whet_<key id>_<secret> that is shown to the user once.
func NewKey() (id, secret, token string) {
	id, secret = store.NewID("key"), NewSecret()
	return id, secret, FormatToken(id, secret)
}

// FormatToken joins a key id and secret into a token.
func FormatToken(id, secret string) string { return TokenPrefix + id + "_" + secret }

// ParseToken splits whet_<key id>_<secret>. The key id may itself contain
// underscores (key_abc); the secret is everything after the last one.
func ParseToken(tok string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(tok, TokenPrefix)
	if !ok || len(tok) > 256 {
		return "", "", ErrMalformedToken
	}
	i := strings.LastIndexByte(rest, '_')
	if i <= 0 || i == len(rest)-1 {
		return "", "", ErrMalformedToken
	}
	id, secret = rest[:i], rest[i+1:]
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return "", "", ErrMalformedToken
		}
	}
	if len(secret) < 16 {
		return "", "", ErrMalformedToken
	}
	for _, c := range secret {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "", "", ErrMalformedToken
		}
	}
	return id, secret, nil
}

// HashSecret returns the stored form of a key secret: hex SHA-256. Secrets
// are long and random, so a fast hash is enough.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}
