package local_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/whet-dev/whet/internal/blob/local"
)

const benchSize = 4 << 20

// BenchmarkPut stores distinct 4 MiB blobs (hash + temp file + fsync +
// rename); BenchmarkPutPeer writes and fsyncs the same bytes to a plain
// file, the floor for a durable write.
func BenchmarkPut(b *testing.B) {
	s, err := local.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, benchSize)
	rand.Read(buf)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		binary.LittleEndian.PutUint64(buf, uint64(i)) // a new blob each time
		if _, err := s.Put(context.Background(), bytes.NewReader(buf)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutPeer(b *testing.B) {
	dir := b.TempDir()
	buf := make([]byte, benchSize)
	rand.Read(buf)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := os.Create(filepath.Join(dir, "f"))
		if err != nil {
			b.Fatal(err)
		}
		f.Write(buf)
		f.Sync()
		f.Close()
	}
}

// BenchmarkGet reads a 4 MiB blob with digest verification;
// BenchmarkGetPeer reads the same file and hashes it by hand.
func BenchmarkGet(b *testing.B) {
	s, err := local.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, benchSize)
	rand.Read(buf)
	info, err := s.Put(context.Background(), bytes.NewReader(buf))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rc, err := s.Get(context.Background(), info.Digest)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}

func BenchmarkGetPeer(b *testing.B) {
	p := filepath.Join(b.TempDir(), "f")
	buf := make([]byte, benchSize)
	rand.Read(buf)
	os.WriteFile(p, buf, 0o644)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		io.Copy(h, f)
		f.Close()
	}
}
