package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/whet-dev/whet/internal/blob"
)

func init() {
	blob.Register("s3", func(ctx context.Context, p blob.OpenParams) (blob.Store, error) {
		cfg, err := ParseURL(p.URL.String())
		if err != nil {
			return nil, err
		}
		cfg.Credentials = p.Credentials
		return Open(ctx, cfg)
	})
}

// Config says where the blobs live.
type Config struct {
	Bucket      string
	Prefix      string // key prefix without leading or trailing slash; may be empty
	Endpoint    string // host[:port]; empty means AWS S3 (s3.amazonaws.com)
	Region      string
	Secure      bool // HTTPS
	PathStyle   bool // bucket in the path rather than the host name
	PartSize    uint64
	Credentials blob.Credentials
	// Transport overrides the HTTP transport (tests).
	Transport http.RoundTripper
}

// DefaultPartSize bounds the memory one streaming upload uses and, with
// S3's 10,000-part limit, the largest blob (160 GiB).
const DefaultPartSize = 16 << 20

// maxCopySize is the largest object a single server-side CopyObject may
// copy; larger blobs are copied part by part.
const maxCopySize = 5 << 30

// ParseURL reads "s3://bucket/prefix?endpoint=host:port&region=r&secure=false&path_style=true&part_size=N".
// secure defaults to true; path_style defaults to true when an endpoint is
// given (MinIO and most self-hosted stores) and false otherwise.
func ParseURL(raw string) (Config, error) {
	if !strings.HasPrefix(raw, "s3://") {
		return Config{}, fmt.Errorf("s3: URL %q does not start with s3://", raw)
	}
	rest := strings.TrimPrefix(raw, "s3://")
	query := ""
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, query = rest[:i], rest[i+1:]
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return Config{}, fmt.Errorf("s3: URL %q names no bucket", raw)
	}
	cfg := Config{Bucket: bucket, Prefix: strings.Trim(prefix, "/"), Secure: true, PartSize: DefaultPartSize}
	q, err := parseQuery(query)
	if err != nil {
		return Config{}, fmt.Errorf("s3: URL %q: %w", raw, err)
	}
	cfg.Endpoint = q["endpoint"]
	cfg.Region = q["region"]
	cfg.PathStyle = cfg.Endpoint != ""
	for k, v := range q {
		switch k {
		case "endpoint", "region":
		case "secure":
			if cfg.Secure, err = strconv.ParseBool(v); err != nil {
				return Config{}, fmt.Errorf("s3: URL %q: secure=%q: want true or false", raw, v)
			}
		case "path_style", "path-style", "force_path_style":
			if cfg.PathStyle, err = strconv.ParseBool(v); err != nil {
				return Config{}, fmt.Errorf("s3: URL %q: %s=%q: want true or false", raw, k, v)
			}
		case "part_size":
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n < 5<<20 {
				return Config{}, fmt.Errorf("s3: URL %q: part_size=%q: want bytes >= 5242880", raw, v)
			}
			cfg.PartSize = n
		default:
			return Config{}, fmt.Errorf("s3: URL %q: unknown parameter %q", raw, k)
		}
	}
	return cfg, nil
}

func parseQuery(q string) (map[string]string, error) {
	m := map[string]string{}
	if q == "" {
		return m, nil
	}
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		v, err := url.QueryUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", k, err)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("parameter %q given twice", k)
		}
		m[k] = v
	}
	return m, nil
}

// Store is a blob.Store on an S3 bucket.
type Store struct {
	c        *minio.Client
	bucket   string
	prefix   string // "" or "p/"
	partSize uint64
}

var _ blob.Store = (*Store)(nil)

// Open connects to the bucket and checks that it exists.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3: no bucket")
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	var creds *credentials.Credentials
	if cfg.Credentials.AccessKeyID != "" {
		creds = credentials.NewStaticV4(cfg.Credentials.AccessKeyID, cfg.Credentials.SecretAccessKey, cfg.Credentials.SessionToken)
	} else {
		creds = credentials.New(&credentials.Static{}) // anonymous
	}
	c, err := minio.New(endpoint, &minio.Options{
		Creds:        creds,
		Secure:       cfg.Secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: client: %w", err)
	}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3: bucket %q: %w", cfg.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("s3: bucket %q does not exist", cfg.Bucket)
	}
	s := &Store{c: c, bucket: cfg.Bucket, partSize: cfg.PartSize}
	if s.partSize == 0 {
		s.partSize = DefaultPartSize
	}
	if p := strings.Trim(cfg.Prefix, "/"); p != "" {
		s.prefix = p + "/"
	}
	return s, nil
}

func (s *Store) key(d blob.Digest) string {
	h := d.Hex()
	return s.prefix + "sha256/" + h[:2] + "/" + h[2:]
}

func (s *Store) tmpKey() string {
	var b [16]byte
	rand.Read(b[:])
	return s.prefix + "tmp/" + hex.EncodeToString(b[:])
}

func isNotFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.StatusCode == http.StatusNotFound || r.Code == "NoSuchKey" || r.Code == "NotFound"
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, r io.Reader) (blob.Info, error) {
	tmp := s.tmpKey()
	h := blob.NewHash()
	tr := io.TeeReader(r, h)
	// Read up to one part: content that fits goes up in one PUT with a known
	// length; longer content streams as a multipart upload, one part in
	// memory at a time. The payload is sent unsigned with a per-part
	// Content-MD5 that the server checks (a signed streaming payload is not
	// understood by every S3-compatible server); whet's own digest is
	// computed here while the bytes stream past.
	// The buffer grows with the content, so small blobs stay small.
	var first bytes.Buffer
	n, err := io.CopyN(&first, tr, int64(s.partSize))
	var body io.Reader
	size := int64(-1)
	switch {
	case err == io.EOF:
		body, size = &first, n
	case err != nil:
		return blob.Info{}, fmt.Errorf("s3: put: read: %w", err)
	default:
		body = io.MultiReader(&first, tr)
	}
	up, err := s.c.PutObject(ctx, s.bucket, tmp, body, size, minio.PutObjectOptions{
		ContentType:          "application/octet-stream",
		PartSize:             s.partSize,
		DisableContentSha256: true,
		SendContentMd5:       true,
	})
	if err != nil {
		s.removeTemp(tmp)
		return blob.Info{}, fmt.Errorf("s3: put: upload: %w", err)
	}
	defer s.removeTemp(tmp)
	d := blob.FromHash(h)
	if info, err := s.Stat(ctx, d); err == nil && info.Size == up.Size {
		return info, nil
	}
	dst := minio.CopyDestOptions{Bucket: s.bucket, Object: s.key(d)}
	src := minio.CopySrcOptions{Bucket: s.bucket, Object: tmp}
	if up.Size <= maxCopySize {
		_, err = s.c.CopyObject(ctx, dst, src)
	} else {
		_, err = s.c.ComposeObject(ctx, dst, src)
	}
	if err != nil {
		return blob.Info{}, fmt.Errorf("s3: put: copy to %s: %w", d, err)
	}
	info, err := s.Stat(ctx, d)
	if err != nil {
		return blob.Info{}, fmt.Errorf("s3: put: %w", err)
	}
	return info, nil
}

// removeTemp deletes a temporary key even when the caller's ctx is done;
// a leftover costs storage only (a bucket lifecycle rule on PREFIX/tmp/
// cleans those up).
func (s *Store) removeTemp(key string) {
	s.c.RemoveObject(context.Background(), s.bucket, key, minio.RemoveObjectOptions{})
}

// Get implements blob.Store.
func (s *Store) Get(ctx context.Context, d blob.Digest) (io.ReadCloser, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	obj, err := s.c.GetObject(ctx, s.bucket, s.key(d), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("s3: get %s: %w", d, err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		if isNotFound(err) {
			return nil, fmt.Errorf("%w: %s", blob.ErrNotFound, d)
		}
		return nil, fmt.Errorf("s3: get %s: %w", d, err)
	}
	return blob.VerifyReader(obj, d, st.Size), nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, d blob.Digest) (blob.Info, error) {
	if err := d.Validate(); err != nil {
		return blob.Info{}, err
	}
	st, err := s.c.StatObject(ctx, s.bucket, s.key(d), minio.StatObjectOptions{})
	if err != nil {
		if isNotFound(err) {
			return blob.Info{}, fmt.Errorf("%w: %s", blob.ErrNotFound, d)
		}
		return blob.Info{}, fmt.Errorf("s3: stat %s: %w", d, err)
	}
	return blob.Info{Digest: d, Size: st.Size, ModTime: st.LastModified.UTC()}, nil
}

// List implements blob.Store. Keys under the prefix that are not blobs are
// skipped.
func (s *Store) List(ctx context.Context, fn func(blob.Info) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine when fn ends the walk early
	base := s.prefix + "sha256/"
	for obj := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: base, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("s3: list: %w", obj.Err)
		}
		rest := strings.TrimPrefix(obj.Key, base)
		if len(rest) < 3 || rest[2] != '/' {
			continue
		}
		d := blob.Digest("sha256:" + rest[:2] + rest[3:])
		if d.Validate() != nil {
			continue
		}
		if err := fn(blob.Info{Digest: d, Size: obj.Size, ModTime: obj.LastModified.UTC()}); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, d blob.Digest) error {
	if _, err := s.Stat(ctx, d); err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.bucket, s.key(d), minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("s3: delete %s: %w", d, err)
	}
	return nil
}

// String describes the store for logs.
func (s *Store) String() string { return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/") }
