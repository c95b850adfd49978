package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/ingest"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// fakeBucket serves a gofakes3 bucket on loopback that rejects requests not
// signed with the access key "AKTEST", the way S3 answers a revoked key.
func fakeBucket(t *testing.T) (endpoint, bucket string, mc *minio.Client) {
	t.Helper()
	backend := s3mem.New()
	bucket = "corp-docs"
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	fake := gofakes3.New(backend).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Authorization"), "Credential=AKTEST/") {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist.</Message></Error>`)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	endpoint = strings.TrimPrefix(srv.URL, "http://")
	mc, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4("AKTEST", "sk", ""), Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	return endpoint, bucket, mc
}

func putObject(t *testing.T, mc *minio.Client, bucket, key, body string) {
	t.Helper()
	if _, err := mc.PutObject(context.Background(), bucket, key, bytes.NewReader([]byte(body)), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

func newS3Connector(t *testing.T, endpoint, bucket, accessKey string) ingest.Connector {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"endpoint": endpoint, "bucket": bucket, "prefix": "corp/", "region": "us-east-1", "secure": false,
		"path_style": true, "access_key_secret": "ak", "secret_key_secret": "sk", "exclude": []string{"*.tmp"}})
	c, err := ingest.NewConnector("s3", raw, secretsOf(map[string]string{"ak": accessKey, "sk": "sk"}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestS3Sync(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, dataset.KindDocuments)
		endpoint, bucket, mc := fakeBucket(t)
		putObject(t, mc, bucket, "corp/policies/travel.md", "# Travel\n\nBook trains for trips under 500 km.")
		putObject(t, mc, bucket, "corp/faq.txt", "Refunds are paid within 30 days of a claim.")
		putObject(t, mc, bucket, "corp/scratch.tmp", "not me")
		putObject(t, mc, bucket, "other/outside.txt", "outside the prefix")
		c := newS3Connector(t, endpoint, bucket, "AKTEST")
		src := ingest.Source{ID: "src_s3", Type: "s3", URI: "s3://" + bucket + "/corp/"}
		res, err := f.in.SyncSource(ctx, "org_a", f.set, src, c, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Added != 2 || res.Files != 2 {
			t.Fatalf("first sync %+v", res.Summary)
		}
		res, err = f.in.SyncSource(ctx, "org_a", f.set, src, c, res.Cursor, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Unchanged != 2 || res.Files != 0 {
			t.Fatalf("second sync %+v", res.Summary)
		}
		putObject(t, mc, bucket, "corp/faq.txt", "Refunds are paid within 14 days of a claim.")
		if err := mc.RemoveObject(ctx, bucket, "corp/policies/travel.md", minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		res, err = f.in.SyncSource(ctx, "org_a", f.set, src, c, res.Cursor, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Revised != 1 || res.Tombstoned != 1 {
			t.Fatalf("third sync %+v (tombstoned %d)", res.Summary, res.Tombstoned)
		}
		var active []string
		f.ds.ActiveDocuments(ctx, f.set.ID, func(d *dataset.Document) error {
			active = append(active, d.SourceKey)
			return nil
		})
		if len(active) != 1 || active[0] != "corp/faq.txt" {
			t.Fatalf("active = %v", active)
		}
	})
}

func TestS3Errors(t *testing.T) {
	endpoint, bucket, _ := fakeBucket(t)
	_, _, _, _, err := collect(t, newS3Connector(t, endpoint, bucket, "AKREVOKED"), nil)
	if !errors.Is(err, ingest.ErrCredentials) {
		t.Errorf("revoked key: %v", err)
	}
	_, _, _, _, err = collect(t, newS3Connector(t, "127.0.0.1:1", bucket, "AKTEST"), nil)
	if !errors.Is(err, ingest.ErrUnreachable) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("unreachable: %v", err)
	}
	for _, bad := range []string{`{"prefix":"x"}`, `{"bucket":"b","acces_key_secret":"a"}`, `{"bucket":"b","access_key_secret":"a"}`, `{"bucket":"b","include":["[x"]}`} {
		if _, err := ingest.NewConnector("s3", json.RawMessage(bad), secretsOf(nil)); !errors.Is(err, ingest.ErrConfig) {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}
