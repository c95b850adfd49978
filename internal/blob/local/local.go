package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/whet-dev/whet/internal/blob"
)

func init() {
	blob.Register("file", func(ctx context.Context, p blob.OpenParams) (blob.Store, error) {
		return Open(p.URL.Path)
	})
}

// Store is a blob.Store on a local folder.
type Store struct {
	root string
}

var _ blob.Store = (*Store)(nil)

// staleTemp is how old a leftover temporary file must be before Open
// removes it (a crashed Put leaves one behind).
const staleTemp = 24 * time.Hour

// Open returns the store rooted at dir, creating the folder if needed.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("local: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	s := &Store{root: abs}
	for _, d := range []string{s.tmpDir(), filepath.Join(abs, "sha256")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("local: create %s: %w", d, err)
		}
	}
	s.removeStaleTemps(time.Now())
	return s, nil
}

// Root returns the folder the store lives in.
func (s *Store) Root() string { return s.root }

func (s *Store) tmpDir() string { return filepath.Join(s.root, "tmp") }

func (s *Store) path(d blob.Digest) string {
	h := d.Hex()
	return filepath.Join(s.root, "sha256", h[:2], h[2:])
}

func (s *Store) removeStaleTemps(now time.Time) {
	ents, err := os.ReadDir(s.tmpDir())
	if err != nil {
		return
	}
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > staleTemp {
			os.Remove(filepath.Join(s.tmpDir(), e.Name()))
		}
	}
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, r io.Reader) (info blob.Info, err error) {
	f, err := os.CreateTemp(s.tmpDir(), "put-*")
	if err != nil {
		return blob.Info{}, fmt.Errorf("local: put: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			os.Remove(tmp)
		}
	}()
	h := blob.NewHash()
	n, err := io.Copy(io.MultiWriter(f, h), ctxReader{ctx, r})
	if err != nil {
		return blob.Info{}, fmt.Errorf("local: put: write: %w", err)
	}
	if err := f.Sync(); err != nil {
		return blob.Info{}, fmt.Errorf("local: put: sync: %w", err)
	}
	if err := f.Close(); err != nil {
		f = nil
		return blob.Info{}, fmt.Errorf("local: put: close: %w", err)
	}
	f = nil
	d := blob.FromHash(h)
	dst := s.path(d)
	if fi, err := os.Stat(dst); err == nil && fi.Size() == n {
		os.Remove(tmp)
		return blob.Info{Digest: d, Size: n, ModTime: fi.ModTime().UTC()}, nil
	}
	dir := filepath.Dir(dst)
	if err := os.Chmod(tmp, 0o444); err != nil {
		return blob.Info{}, fmt.Errorf("local: put: %w", err)
	}
	// A concurrent Delete may remove the shard folder between MkdirAll and
	// Rename; try again then.
	for try := 0; ; try++ {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return blob.Info{}, fmt.Errorf("local: put: %w", err)
		}
		err := os.Rename(tmp, dst)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || try == 3 {
			return blob.Info{}, fmt.Errorf("local: put: rename: %w", err)
		}
	}
	if err := syncDir(dir); err != nil {
		return blob.Info{}, fmt.Errorf("local: put: sync dir: %w", err)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		return blob.Info{}, fmt.Errorf("local: put: %w", err)
	}
	return blob.Info{Digest: d, Size: n, ModTime: fi.ModTime().UTC()}, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Get implements blob.Store.
func (s *Store) Get(ctx context.Context, d blob.Digest) (io.ReadCloser, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", blob.ErrNotFound, d)
	}
	if err != nil {
		return nil, fmt.Errorf("local: get: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("local: get: %w", err)
	}
	return blob.VerifyReader(f, d, fi.Size()), nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, d blob.Digest) (blob.Info, error) {
	if err := d.Validate(); err != nil {
		return blob.Info{}, err
	}
	fi, err := os.Stat(s.path(d))
	if errors.Is(err, fs.ErrNotExist) {
		return blob.Info{}, fmt.Errorf("%w: %s", blob.ErrNotFound, d)
	}
	if err != nil {
		return blob.Info{}, fmt.Errorf("local: stat: %w", err)
	}
	return blob.Info{Digest: d, Size: fi.Size(), ModTime: fi.ModTime().UTC()}, nil
}

// List implements blob.Store. Files that are not blobs are skipped.
func (s *Store) List(ctx context.Context, fn func(blob.Info) error) error {
	base := filepath.Join(s.root, "sha256")
	shards, err := os.ReadDir(base)
	if err != nil {
		return fmt.Errorf("local: list: %w", err)
	}
	for _, sh := range shards {
		if !sh.IsDir() || len(sh.Name()) != 2 {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(base, sh.Name()))
		if err != nil {
			return fmt.Errorf("local: list: %w", err)
		}
		for _, e := range ents {
			if err := ctx.Err(); err != nil {
				return err
			}
			d := blob.Digest("sha256:" + sh.Name() + e.Name())
			if e.IsDir() || d.Validate() != nil {
				continue
			}
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted while listing
			}
			if err != nil {
				return fmt.Errorf("local: list: %w", err)
			}
			if err := fn(blob.Info{Digest: d, Size: fi.Size(), ModTime: fi.ModTime().UTC()}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, d blob.Digest) error {
	if err := d.Validate(); err != nil {
		return err
	}
	p := s.path(d)
	err := os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", blob.ErrNotFound, d)
	}
	if err != nil {
		return fmt.Errorf("local: delete: %w", err)
	}
	os.Remove(filepath.Dir(p)) // drop the shard folder if now empty; fails harmlessly otherwise
	return nil
}

// ctxReader stops a long copy when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// String describes the store for logs.
func (s *Store) String() string { return "file://" + strings.TrimSuffix(s.root, "/") }
