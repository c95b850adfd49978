package blob_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/whet-dev/whet/internal/blob"
)

func TestParseDigest(t *testing.T) {
	good := string(blob.FromBytes([]byte("x")))
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"canonical", good, true},
		{"empty", "", false},
		{"no prefix", strings.TrimPrefix(good, "sha256:"), false},
		{"other algorithm", "sha512:" + good[7:], false},
		{"upper case hex", "sha256:" + strings.ToUpper(good[7:]), false},
		{"short", good[:len(good)-1], false},
		{"long", good + "0", false},
		{"path traversal", "sha256:../../../../etc/passwd" + strings.Repeat("0", 36), false},
		{"non-hex", "sha256:" + strings.Repeat("g", 64), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := blob.ParseDigest(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ParseDigest(%q) = %q, %v; want ok=%v", tc.in, d, err, tc.ok)
			}
			if err != nil && !errors.Is(err, blob.ErrInvalidDigest) {
				t.Fatalf("error %v does not wrap ErrInvalidDigest", err)
			}
		})
	}
}

func TestFromBytesKnownVector(t *testing.T) {
	// SHA-256("abc") from FIPS 180-2, appendix B.1.
	const want = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := blob.FromBytes([]byte("abc")); got != want {
		t.Fatalf("FromBytes(abc) = %s, want %s", got, want)
	}
}

func TestVerifyReader(t *testing.T) {
	content := []byte("the quick brown fox")
	d := blob.FromBytes(content)
	for _, tc := range []struct {
		name    string
		body    []byte
		size    int64
		wantErr error
	}{
		{"match", content, int64(len(content)), nil},
		{"match, size unknown", content, -1, nil},
		{"flipped byte", []byte("the quick brown fix"), int64(len(content)), blob.ErrCorrupt},
		{"truncated", content[:5], int64(len(content)), blob.ErrCorrupt},
		{"truncated, size unknown", content[:5], -1, blob.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := blob.VerifyReader(io.NopCloser(bytes.NewReader(tc.body)), d, tc.size)
			got, err := io.ReadAll(r)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("ReadAll err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && !bytes.Equal(got, content) {
				t.Fatalf("content = %q", got)
			}
		})
	}
}

func FuzzParseDigest(f *testing.F) {
	f.Add(string(blob.FromBytes(nil)))
	f.Add("sha256:")
	f.Add("sha256:../x")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := blob.ParseDigest(s)
		if err != nil {
			return
		}
		// A valid digest round-trips and is safe as a path component.
		if string(d) != s || strings.ContainsAny(d.Hex(), "/\\.") || len(d.Hex()) != 64 {
			t.Fatalf("accepted %q", s)
		}
	})
}
