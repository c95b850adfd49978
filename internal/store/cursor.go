package store

import (
	"encoding/base64"
	"errors"
	"unicode/utf8"
)

// ErrBadCursor reports a pagination cursor that this server did not issue.
var ErrBadCursor = errors.New("store: bad cursor")

// EncodeCursor wraps a list position (usually the last id of a page) into
// an opaque cursor string.
func EncodeCursor(pos string) string {
	if pos == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte("c1:" + pos))
}

// DecodeCursor reverses EncodeCursor; "" decodes to "".
func DecodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	if len(c) > 512 {
		return "", ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 4 || string(b[:3]) != "c1:" || !utf8.Valid(b) {
		return "", ErrBadCursor
	}
	return string(b[3:]), nil
}

// ClampLimit bounds a page size to [1, 1000], using def for 0.
func ClampLimit(limit, def int) int {
	if limit <= 0 {
		return def
	}
	return min(limit, 1000)
}
