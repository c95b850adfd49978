package blob

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Errors returned by stores. Implementations wrap them, so test with errors.Is.
var (
	ErrNotFound      = errors.New("blob: not found")
	ErrInvalidDigest = errors.New("blob: invalid digest")
	ErrCorrupt       = errors.New("blob: content does not match digest")
)

// Info describes a stored blob.
type Info struct {
	Digest  Digest
	Size    int64
	ModTime time.Time
}

// Store is a content-addressed object store. Implementations stream: no
// method holds a whole blob in memory.
type Store interface {
	// Put stores the content of r and returns its digest. Storing content
	// that already exists is a no-op that returns the existing Info. A blob
	// becomes visible only once it is complete.
	Put(ctx context.Context, r io.Reader) (Info, error)
	// Get opens the blob for reading. The reader verifies the digest and
	// returns an error wrapping ErrCorrupt at the end if the content does
	// not match. A missing blob is ErrNotFound.
	Get(ctx context.Context, d Digest) (io.ReadCloser, error)
	// Stat describes the blob, or returns ErrNotFound.
	Stat(ctx context.Context, d Digest) (Info, error)
	// List calls fn for each blob in digest order; an error from fn stops
	// the walk and is returned.
	List(ctx context.Context, fn func(Info) error) error
	// Delete removes the blob, or returns ErrNotFound.
	Delete(ctx context.Context, d Digest) error
}

// Credentials are the secrets a remote store needs. They are passed in by
// the caller (from configuration); no store reads the environment.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// String masks the secrets so that Credentials can be logged.
func (c Credentials) String() string {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "***"
	}
	return fmt.Sprintf("{AccessKeyID:%s SecretAccessKey:%s SessionToken:%s}", c.AccessKeyID, mask(c.SecretAccessKey), mask(c.SessionToken))
}

// OpenParams is what an Opener receives.
type OpenParams struct {
	URL         *url.URL // parsed store URL; Path holds the folder for file URLs
	DataDir     string   // whet's data directory
	Credentials Credentials
}

// Opener builds a Store from a URL. Implementations register one per scheme.
type Opener func(ctx context.Context, p OpenParams) (Store, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Opener{}
)

// Register makes an Opener available to Open under a URL scheme ("file",
// "s3"). It is meant to be called from an implementation's init and panics
// on a duplicate scheme.
func Register(scheme string, o Opener) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[scheme]; dup {
		panic("blob: Register called twice for scheme " + scheme)
	}
	registry[scheme] = o
}

// Open returns the store named by rawURL:
//
//	""                      the local folder DATA/blobs (dataDir)
//	"file:///abs/dir"       a local folder (also a bare path "/abs/dir")
//	"s3://bucket/prefix?endpoint=host:port&region=r&secure=false&path_style=true"
//
// The implementation for a scheme must have been linked in (blob/local,
// blob/s3).
func Open(ctx context.Context, rawURL, dataDir string, cred Credentials) (Store, error) {
	var u *url.URL
	switch {
	case rawURL == "":
		if dataDir == "" {
			return nil, errors.New("blob: open: empty URL and no data directory")
		}
		u = &url.URL{Scheme: "file", Path: strings.TrimRight(dataDir, "/") + "/blobs"}
	case strings.HasPrefix(rawURL, "file://"):
		u = &url.URL{Scheme: "file", Path: strings.TrimPrefix(rawURL, "file://")}
	case strings.HasPrefix(rawURL, "/") || strings.HasPrefix(rawURL, "."):
		u = &url.URL{Scheme: "file", Path: rawURL}
	default:
		var err error
		u, err = url.Parse(rawURL)
		if err != nil {
			return nil, fmt.Errorf("blob: open: bad URL: %w", err)
		}
	}
	if u.Scheme == "file" && u.Path == "" {
		return nil, errors.New("blob: open: file URL without a path")
	}
	registryMu.RLock()
	o := registry[u.Scheme]
	registryMu.RUnlock()
	if o == nil {
		hint := map[string]string{"file": " (import internal/blob/local)", "s3": " (import internal/blob/s3)"}[u.Scheme]
		return nil, fmt.Errorf("blob: open: no store registered for scheme %q%s", u.Scheme, hint)
	}
	s, err := o(ctx, OpenParams{URL: u, DataDir: dataDir, Credentials: cred})
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", u.Scheme, err)
	}
	return s, nil
}

// VerifyReader wraps rc so that reading it to the end checks the content
// against d (and size, when size >= 0). On a mismatch the final Read
// returns an error wrapping ErrCorrupt instead of io.EOF.
func VerifyReader(rc io.ReadCloser, d Digest, size int64) io.ReadCloser {
	return &verifyReader{rc: rc, want: d, size: size, h: NewHash()}
}

type verifyReader struct {
	rc   io.ReadCloser
	want Digest
	size int64
	n    int64
	h    hash.Hash
	err  error
}

func (v *verifyReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if err == io.EOF {
		switch got := FromHash(v.h); {
		case v.size >= 0 && v.n != v.size:
			err = fmt.Errorf("%w: %s: read %d bytes, want %d", ErrCorrupt, v.want, v.n, v.size)
		case got != v.want:
			err = fmt.Errorf("%w: %s: content hashes to %s", ErrCorrupt, v.want, got)
		}
	}
	if err != nil {
		v.err = err
	}
	return n, err
}

func (v *verifyReader) Close() error { return v.rc.Close() }
