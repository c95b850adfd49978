package s3

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"

	"github.com/whet-dev/whet/internal/blob"
	"github.com/whet-dev/whet/internal/blob/blobtest"
)

var bucketSeq atomic.Int64

// fakeS3 starts an in-process S3-protocol server with one fresh bucket.
func fakeS3(t *testing.T) (endpoint, bucket string) {
	t.Helper()
	backend := s3mem.New()
	bucket = fmt.Sprintf("whet-test-%d", bucketSeq.Add(1))
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), bucket
}

func openFake(t *testing.T, prefix string) *Store {
	t.Helper()
	ep, bucket := fakeS3(t)
	s, err := Open(t.Context(), Config{
		Bucket: bucket, Prefix: prefix, Endpoint: ep, Region: "us-east-1", PathStyle: true,
		PartSize:    5 << 20,
		Credentials: blob.Credentials{AccessKeyID: "test", SecretAccessKey: "test-secret"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	for _, prefix := range []string{"", "tenant/a"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			blobtest.Run(t, blobtest.Harness{
				New: func(t *testing.T) blob.Store { return openFake(t, prefix) },
				Corrupt: func(t *testing.T, bs blob.Store, d blob.Digest, content []byte) {
					s := bs.(*Store)
					if _, err := s.c.PutObject(context.Background(), s.bucket, s.key(d), bytes.NewReader(content), int64(len(content)), minio.PutObjectOptions{}); err != nil {
						t.Fatal(err)
					}
				},
				Large: 11 << 20, // more than two 5 MiB parts: exercises the multipart upload
			})
		})
	}
}

func TestKeysUnderPrefix(t *testing.T) {
	s := openFake(t, "p/q")
	info, err := s.Put(t.Context(), strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for o := range s.c.ListObjects(t.Context(), s.bucket, minio.ListObjectsOptions{Recursive: true}) {
		keys = append(keys, o.Key)
	}
	h := info.Digest.Hex()
	want := "p/q/sha256/" + h[:2] + "/" + h[2:]
	if len(keys) != 1 || keys[0] != want {
		t.Fatalf("keys = %v, want [%s] (temporary key removed)", keys, want)
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url     string
		want    Config
		wantErr bool
	}{
		{url: "s3://bkt", want: Config{Bucket: "bkt", Secure: true, PartSize: DefaultPartSize}},
		{url: "s3://bkt/some/prefix/?endpoint=127.0.0.1:9000&region=eu-west-1&secure=false",
			want: Config{Bucket: "bkt", Prefix: "some/prefix", Endpoint: "127.0.0.1:9000", Region: "eu-west-1", PathStyle: true, PartSize: DefaultPartSize}},
		{url: "s3://bkt?endpoint=minio:9000&path_style=false&part_size=8388608",
			want: Config{Bucket: "bkt", Endpoint: "minio:9000", Secure: true, PartSize: 8 << 20}},
		{url: "s3:///prefix", wantErr: true},
		{url: "s3://bkt?secure=maybe", wantErr: true},
		{url: "s3://bkt?part_size=10", wantErr: true},
		{url: "s3://bkt?unknown=1", wantErr: true},
		{url: "s3://bkt?region=a&region=b", wantErr: true},
		{url: "http://bkt", wantErr: true},
	} {
		t.Run(tc.url, func(t *testing.T) {
			got, err := ParseURL(tc.url)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseURL = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("ParseURL = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestOpenViaBlobOpen(t *testing.T) {
	ep, bucket := fakeS3(t)
	cred := blob.Credentials{AccessKeyID: "k", SecretAccessKey: "s"}
	s, err := blob.Open(t.Context(), "s3://"+bucket+"/pre?endpoint="+ep+"&region=us-east-1&secure=false", t.TempDir(), cred)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*Store); !ok {
		t.Fatalf("blob.Open returned %T", s)
	}
	if _, err := blob.Open(t.Context(), "s3://no-such-bucket?endpoint="+ep+"&secure=false", "", cred); err == nil {
		t.Fatal("Open on a missing bucket succeeded")
	}
	if strings.Contains(cred.String(), "s\"") || !strings.Contains(cred.String(), "***") {
		t.Fatalf("Credentials.String leaks: %s", cred)
	}
}

// FuzzParseURL: ParseURL never panics, and what it accepts names a bucket
// and a sane part size.
func FuzzParseURL(f *testing.F) {
	f.Add("s3://bkt/prefix?endpoint=127.0.0.1:9000&region=us-east-1&secure=false")
	f.Add("s3://bkt?part_size=5242880&path_style=true")
	f.Add("s3://?&&=")
	f.Fuzz(func(t *testing.T, raw string) {
		cfg, err := ParseURL(raw)
		if err != nil {
			return
		}
		if cfg.Bucket == "" || cfg.PartSize < 5<<20 || strings.HasPrefix(cfg.Prefix, "/") || strings.HasSuffix(cfg.Prefix, "/") {
			t.Fatalf("ParseURL(%q) accepted %+v", raw, cfg)
		}
	})
}
