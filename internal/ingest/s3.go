package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config is an S3-compatible bucket source: every object under Prefix
// whose key (relative to Prefix) matches an Include glob (all when none) and
// no Exclude glob, with the folder connector's glob syntax.
type S3Config struct {
	Endpoint string `json:"endpoint,omitempty"` // host[:port]; default s3.amazonaws.com; an http(s):// prefix sets secure
	Bucket   string `json:"bucket"`
	Prefix   string `json:"prefix,omitempty"`
	Region   string `json:"region,omitempty"`
	// Secure selects https (default true unless the endpoint says http://).
	Secure    *bool `json:"secure,omitempty"`
	PathStyle bool  `json:"path_style,omitempty"`
	// AccessKeySecret and SecretKeySecret name the secrets holding the key
	// pair; both empty means anonymous access.
	AccessKeySecret string   `json:"access_key_secret,omitempty"`
	SecretKeySecret string   `json:"secret_key_secret,omitempty"`
	Include         []string `json:"include,omitempty"`
	Exclude         []string `json:"exclude,omitempty"`
}

// Validate checks the config is complete and the globs parse.
func (c *S3Config) Validate() error {
	if c.Bucket == "" {
		return fmt.Errorf("%w: s3 source needs a bucket", ErrConfig)
	}
	if (c.AccessKeySecret == "") != (c.SecretKeySecret == "") {
		return fmt.Errorf("%w: s3 source needs both access_key_secret and secret_key_secret, or neither", ErrConfig)
	}
	return FolderConfig{Path: "-", Include: c.Include, Exclude: c.Exclude}.Validate()
}

// s3Cursor remembers each object's ETag and modification time.
type s3Cursor struct {
	Objects map[string]string `json:"objects"` // key → "etag@lastmodified"
}

type s3Connector struct {
	cfg    S3Config
	client *minio.Client
	sel    FolderConfig
}

func init() {
	RegisterConnector("s3", func(config json.RawMessage, secrets Secrets) (Connector, error) {
		var cfg S3Config
		if err := strictJSON(config, &cfg); err != nil {
			return nil, err
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		endpoint, secure := cfg.Endpoint, true
		if endpoint == "" {
			endpoint = "s3.amazonaws.com"
		}
		if u, err := url.Parse(endpoint); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			endpoint, secure = u.Host, u.Scheme == "https"
		}
		if cfg.Secure != nil {
			secure = *cfg.Secure
		}
		creds := credentials.New(&credentials.Static{})
		if cfg.AccessKeySecret != "" {
			if secrets == nil {
				return nil, fmt.Errorf("%w: secret %q is not set", ErrConfig, cfg.AccessKeySecret)
			}
			ak, err := secrets(cfg.AccessKeySecret)
			if err != nil {
				return nil, err
			}
			sk, err := secrets(cfg.SecretKeySecret)
			if err != nil {
				return nil, err
			}
			creds = credentials.NewStaticV4(ak, sk, "")
		}
		lookup := minio.BucketLookupAuto
		if cfg.PathStyle {
			lookup = minio.BucketLookupPath
		}
		mc, err := minio.New(endpoint, &minio.Options{Creds: creds, Secure: secure, Region: cfg.Region, BucketLookup: lookup})
		if err != nil {
			return nil, fmt.Errorf("%w: s3 endpoint %q: %v", ErrConfig, endpoint, err)
		}
		return &s3Connector{cfg: cfg, client: mc, sel: FolderConfig{Include: cfg.Include, Exclude: cfg.Exclude}}, nil
	})
}

// s3Error classifies a minio error: rejected credentials and unreachable
// endpoints get their sentinels.
func (c *s3Connector) s3Error(op string, err error) error {
	where := "s3://" + c.cfg.Bucket + "/" + c.cfg.Prefix
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.StatusCode == 401 || resp.StatusCode == 403 || resp.Code == "AccessDenied" || resp.Code == "InvalidAccessKeyId" ||
		resp.Code == "SignatureDoesNotMatch" || resp.Code == "ExpiredToken":
		return fmt.Errorf("%w: %s %s: %s", ErrCredentials, op, where, resp.Code)
	case resp.StatusCode == 0 && resp.Code == "":
		return fmt.Errorf("%w: %s %s at %s: %v", ErrUnreachable, op, where, c.client.EndpointURL().Host, err)
	}
	return fmt.Errorf("%s %s: %w", op, where, err)
}

// Sync lists the prefix (a full listing, so deleted objects are
// tombstoned); objects whose ETag and modification time match the cursor
// are reported unchanged and not downloaded.
func (c *s3Connector) Sync(ctx context.Context, cursor json.RawMessage, emit func(Item) error) (json.RawMessage, bool, error) {
	var prev s3Cursor
	if len(cursor) > 0 {
		_ = json.Unmarshal(cursor, &prev)
	}
	next := s3Cursor{Objects: map[string]string{}}
	objs := c.client.ListObjects(ctx, c.cfg.Bucket, minio.ListObjectsOptions{Prefix: c.cfg.Prefix, Recursive: true})
	for obj := range objs {
		if obj.Err != nil {
			return nil, false, c.s3Error("list", obj.Err)
		}
		if strings.HasSuffix(obj.Key, "/") {
			continue // folder marker
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(obj.Key, c.cfg.Prefix), "/")
		if rel == "" || strings.HasPrefix(path.Base(rel), ".") || !c.sel.selects(rel) {
			continue
		}
		stamp := strings.Trim(obj.ETag, `"`) + "@" + obj.LastModified.UTC().Format(time.RFC3339Nano)
		next.Objects[obj.Key] = stamp
		key := obj.Key
		it := Item{Key: key, URI: "s3://" + c.cfg.Bucket + "/" + key, Size: obj.Size, ModTime: obj.LastModified, ContentType: obj.ContentType,
			Unchanged: prev.Objects[key] == stamp,
			Open: func(ctx context.Context) (io.ReadCloser, error) {
				o, err := c.client.GetObject(ctx, c.cfg.Bucket, key, minio.GetObjectOptions{})
				if err != nil {
					return nil, c.s3Error("get "+key, err)
				}
				return o, nil
			}}
		if err := emit(it); err != nil {
			return nil, false, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	b, _ := json.Marshal(next)
	return b, true, nil
}
