package local_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whet-dev/whet/internal/blob"
	"github.com/whet-dev/whet/internal/blob/blobtest"
	"github.com/whet-dev/whet/internal/blob/local"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, blobtest.Harness{
		New: func(t *testing.T) blob.Store {
			s, err := local.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Corrupt: func(t *testing.T, s blob.Store, d blob.Digest, content []byte) {
			p := filepath.Join(s.(*local.Store).Root(), "sha256", d.Hex()[:2], d.Hex()[2:])
			os.Chmod(p, 0o644)
			if err := os.WriteFile(p, content, 0o644); err != nil {
				t.Fatal(err)
			}
		},
	})
}

func TestLayout(t *testing.T) {
	dir := t.TempDir()
	s, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Put(t.Context(), strings.NewReader("layout"))
	if err != nil {
		t.Fatal(err)
	}
	h := info.Digest.Hex()
	if _, err := os.Stat(filepath.Join(dir, "sha256", h[:2], h[2:])); err != nil {
		t.Fatalf("blob not at DATA/sha256/ab/cdef…: %v", err)
	}
	ents, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil || len(ents) != 0 {
		t.Fatalf("tmp folder after Put: %v entries, %v", len(ents), err)
	}
}

func TestOpenURL(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, url, wantRoot string
	}{
		{"default", "", filepath.Join(dir, "blobs")},
		{"file URL", "file://" + filepath.Join(dir, "elsewhere"), filepath.Join(dir, "elsewhere")},
		{"bare path", filepath.Join(dir, "bare"), filepath.Join(dir, "bare")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := blob.Open(t.Context(), tc.url, dir, blob.Credentials{})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.(*local.Store).Root(); got != tc.wantRoot {
				t.Fatalf("root = %s, want %s", got, tc.wantRoot)
			}
		})
	}
	for _, bad := range []string{"ftp://x/y", "file://", "gs://bucket"} {
		if _, err := blob.Open(t.Context(), bad, dir, blob.Credentials{}); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}
