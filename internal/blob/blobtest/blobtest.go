// Package blobtest is the conformance suite every blob.Store implementation
// runs in its tests.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"sort"
	"sync"
	"testing"

	"github.com/whet-dev/whet/internal/blob"
)

// Harness is what the suite needs from an implementation's test.
type Harness struct {
	// New returns an empty store.
	New func(t *testing.T) blob.Store
	// Corrupt replaces the stored bytes of d behind the store's back.
	Corrupt func(t *testing.T, s blob.Store, d blob.Digest, content []byte)
	// Large is the size of the large-blob case (default 3 MiB).
	Large int
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	ctx := context.Background()
	if h.Large == 0 {
		h.Large = 3 << 20
	}
	put := func(t *testing.T, s blob.Store, b []byte) blob.Info {
		t.Helper()
		info, err := s.Put(ctx, bytes.NewReader(b))
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		return info
	}
	read := func(t *testing.T, s blob.Store, d blob.Digest) ([]byte, error) {
		t.Helper()
		rc, err := s.Get(ctx, d)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}

	t.Run("round trip", func(t *testing.T) {
		s := h.New(t)
		big := make([]byte, h.Large)
		rand.Read(big)
		for _, tc := range []struct {
			name string
			b    []byte
		}{
			{"empty", nil},
			{"small", []byte("hello, whet")},
			{"large", big},
		} {
			t.Run(tc.name, func(t *testing.T) {
				info := put(t, s, tc.b)
				if want := blob.FromBytes(tc.b); info.Digest != want {
					t.Fatalf("digest = %s, want %s", info.Digest, want)
				}
				if info.Size != int64(len(tc.b)) {
					t.Fatalf("size = %d, want %d", info.Size, len(tc.b))
				}
				if info.ModTime.IsZero() {
					t.Fatal("zero ModTime")
				}
				got, err := read(t, s, info.Digest)
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				if !bytes.Equal(got, tc.b) {
					t.Fatalf("content differs: got %d bytes, want %d", len(got), len(tc.b))
				}
				st, err := s.Stat(ctx, info.Digest)
				if err != nil || st.Size != info.Size || st.Digest != info.Digest {
					t.Fatalf("Stat = %+v, %v; want %+v", st, err, info)
				}
			})
		}
	})

	t.Run("idempotent put", func(t *testing.T) {
		s := h.New(t)
		a := put(t, s, []byte("same"))
		b := put(t, s, []byte("same"))
		if a.Digest != b.Digest || a.Size != b.Size {
			t.Fatalf("second put = %+v, first %+v", b, a)
		}
		n := 0
		if err := s.List(ctx, func(blob.Info) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("List saw %d blobs, want 1", n)
		}
	})

	t.Run("concurrent puts", func(t *testing.T) {
		s := h.New(t)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				b := []byte{byte(i % 4)} // four distinct blobs, each written four times
				if _, err := s.Put(ctx, bytes.NewReader(b)); err != nil {
					errs <- err
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("Put: %v", err)
		}
		for i := 0; i < 4; i++ {
			got, err := read(t, s, blob.FromBytes([]byte{byte(i)}))
			if err != nil || !bytes.Equal(got, []byte{byte(i)}) {
				t.Fatalf("blob %d: %q, %v", i, got, err)
			}
		}
	})

	t.Run("not found", func(t *testing.T) {
		s := h.New(t)
		d := blob.FromBytes([]byte("absent"))
		if _, err := s.Get(ctx, d); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Get: %v, want ErrNotFound", err)
		}
		if _, err := s.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat: %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, d); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Delete: %v, want ErrNotFound", err)
		}
	})

	t.Run("invalid digest", func(t *testing.T) {
		s := h.New(t)
		for _, d := range []blob.Digest{"", "sha256:../../etc/passwd", "md5:abc", blob.Digest("sha256:" + string(bytes.Repeat([]byte("A"), 64)))} {
			if _, err := s.Get(ctx, d); !errors.Is(err, blob.ErrInvalidDigest) {
				t.Errorf("Get(%q): %v, want ErrInvalidDigest", d, err)
			}
			if _, err := s.Stat(ctx, d); !errors.Is(err, blob.ErrInvalidDigest) {
				t.Errorf("Stat(%q): %v, want ErrInvalidDigest", d, err)
			}
			if err := s.Delete(ctx, d); !errors.Is(err, blob.ErrInvalidDigest) {
				t.Errorf("Delete(%q): %v, want ErrInvalidDigest", d, err)
			}
		}
	})

	t.Run("list and delete", func(t *testing.T) {
		s := h.New(t)
		var want []string
		for i := 0; i < 5; i++ {
			want = append(want, string(put(t, s, []byte{'x', byte(i)}).Digest))
		}
		sort.Strings(want)
		var got []string
		if err := s.List(ctx, func(i blob.Info) error { got = append(got, string(i.Digest)); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("List = %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("List = %v, want %v (digest order)", got, want)
			}
		}
		stop := errors.New("stop")
		n := 0
		if err := s.List(ctx, func(blob.Info) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
			t.Fatalf("List with early stop: n=%d err=%v", n, err)
		}
		if err := s.Delete(ctx, blob.Digest(want[0])); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, blob.Digest(want[0])); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Stat after Delete: %v", err)
		}
		n = 0
		s.List(ctx, func(blob.Info) error { n++; return nil })
		if n != 4 {
			t.Fatalf("List after Delete saw %d, want 4", n)
		}
	})

	t.Run("corruption detected on read", func(t *testing.T) {
		if h.Corrupt == nil {
			t.Skip("no Corrupt hook")
		}
		for _, tc := range []struct {
			name    string
			replace []byte
		}{
			{"same length", []byte("hellO")},
			{"truncated", []byte("hell")},
			{"longer", []byte("hello!")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := h.New(t)
				info := put(t, s, []byte("hello"))
				h.Corrupt(t, s, info.Digest, tc.replace)
				_, err := read(t, s, info.Digest)
				if !errors.Is(err, blob.ErrCorrupt) {
					t.Fatalf("reading a corrupted blob: %v, want ErrCorrupt", err)
				}
			})
		}
	})

	t.Run("put honours cancelled context", func(t *testing.T) {
		s := h.New(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Put(cctx, bytes.NewReader([]byte("never"))); err == nil {
			t.Fatal("Put with a cancelled context succeeded")
		}
		if _, err := s.Stat(ctx, blob.FromBytes([]byte("never"))); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("a cancelled Put left a visible blob: %v", err)
		}
	})

	t.Run("failing reader leaves nothing", func(t *testing.T) {
		s := h.New(t)
		boom := errors.New("boom")
		r := io.MultiReader(bytes.NewReader([]byte("partial")), errReader{boom})
		if _, err := s.Put(ctx, r); err == nil {
			t.Fatal("Put from a failing reader succeeded")
		}
		n := 0
		s.List(ctx, func(blob.Info) error { n++; return nil })
		if n != 0 {
			t.Fatalf("a failed Put left %d blobs", n)
		}
	})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
