package ingest_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/ingest"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// fakeDrive answers the Drive v3 shapes the connector uses: files.list
// with a parents query and page tokens, changes/startPageToken, changes
// with nextPageToken/newStartPageToken, export and alt=media downloads.
type fakeDrive struct {
	mu      sync.Mutex
	srv     *httptest.Server
	token   string
	files   map[string]*driveFake
	log     []string
	exports []string // ids exported
}

type driveFake struct {
	id, name, mime, parent, body string
	version                      int
	trashed, removed             bool
}

func newFakeDrive(t *testing.T) *fakeDrive {
	d := &fakeDrive{token: "drive-token", files: map[string]*driveFake{}}
	d.srv = httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *fakeDrive) put(id, parent, name, mime, body string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := d.files[id]
	if f == nil {
		f = &driveFake{id: id}
		d.files[id] = f
	}
	f.parent, f.name, f.mime, f.body, f.trashed = parent, name, mime, body, false
	f.version++
	d.log = append(d.log, id)
}

func (d *fakeDrive) trash(id string, removed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.files[id].trashed, d.files[id].removed = true, removed
	d.log = append(d.log, id)
}

func (d *fakeDrive) resource(f *driveFake) map[string]any {
	m := map[string]any{"id": f.id, "name": f.name, "mimeType": f.mime, "parents": []string{f.parent}, "trashed": f.trashed,
		"version": strconv.Itoa(f.version), "modifiedTime": time.Date(2026, 4, 1, 0, 0, f.version, 0, time.UTC).Format(time.RFC3339),
		"webViewLink": "https://drive.example/" + f.id}
	if !strings.HasPrefix(f.mime, "application/vnd.google-apps.") {
		sum := md5.Sum([]byte(f.body))
		m["md5Checksum"] = hex.EncodeToString(sum[:])
		m["size"] = strconv.Itoa(len(f.body))
	}
	return m
}

var parentsQuery = regexp.MustCompile(`'([^']+)' in parents`)

func (d *fakeDrive) serve(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+d.token {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"code":401,"message":"Invalid Credentials"}}`)
		return
	}
	q := r.URL.Query()
	p := strings.TrimPrefix(r.URL.Path, "/drive/v3")
	switch {
	case p == "/changes/startPageToken":
		json.NewEncoder(w).Encode(map[string]any{"kind": "drive#startPageToken", "startPageToken": strconv.Itoa(len(d.log))})
	case p == "/files":
		var match []map[string]any
		m := parentsQuery.FindStringSubmatch(q.Get("q"))
		for _, id := range sortedKeys(d.files) {
			f := d.files[id]
			if !f.trashed && (m == nil || f.parent == m[1]) {
				match = append(match, d.resource(f))
			}
		}
		off, _ := strconv.Atoi(q.Get("pageToken"))
		end := min(off+2, len(match))
		out := map[string]any{"files": match[off:end]}
		if end < len(match) {
			out["nextPageToken"] = strconv.Itoa(end)
		}
		json.NewEncoder(w).Encode(out)
	case p == "/changes":
		from, skip := 0, 0
		fmt.Sscanf(q.Get("pageToken"), "%d.%d", &from, &skip)
		if from > len(d.log) {
			http.Error(w, `{"error":{"code":400,"message":"Invalid pageToken"}}`, http.StatusBadRequest)
			return
		}
		var ids []string
		for _, id := range d.log[from:] {
			if !containsStr(ids, id) {
				ids = append(ids, id)
			}
		}
		end := min(skip+2, len(ids))
		var changes []map[string]any
		for _, id := range ids[skip:end] {
			f := d.files[id]
			ch := map[string]any{"kind": "drive#change", "fileId": id, "removed": f.removed}
			if !f.removed {
				ch["file"] = d.resource(f)
			}
			changes = append(changes, ch)
		}
		out := map[string]any{"changes": changes}
		if end < len(ids) {
			out["nextPageToken"] = fmt.Sprintf("%d.%d", from, end)
		} else {
			out["newStartPageToken"] = strconv.Itoa(len(d.log))
		}
		json.NewEncoder(w).Encode(out)
	case strings.HasPrefix(p, "/files/"):
		rest := strings.TrimPrefix(p, "/files/")
		if id, ok := strings.CutSuffix(rest, "/export"); ok {
			if q.Get("mimeType") != "text/plain" {
				http.Error(w, "bad export type", http.StatusBadRequest)
				return
			}
			d.exports = append(d.exports, id)
			fmt.Fprint(w, d.files[id].body)
			return
		}
		if q.Get("alt") != "media" {
			http.Error(w, "want alt=media", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, d.files[rest].body)
	default:
		http.NotFound(w, r)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return sortedCopy(keys)
}

func newGDrive(t *testing.T, d *fakeDrive, token string) ingest.Connector {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"folder_id": "F", "token_secret": "drive", "base_url": d.srv.URL + "/drive/v3"})
	c, err := ingest.NewConnector("gdrive", raw, secretsOf(map[string]string{"drive": token}))
	if err != nil {
		t.Fatal(err)
	}
	ingest.SetRestSleep(c, func(context.Context, time.Duration) error { return nil })
	return c
}

const gdoc = "application/vnd.google-apps.document"

func TestGDriveChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, dataset.KindDocuments)
		d := newFakeDrive(t)
		d.put("S", "F", "Procedures", "application/vnd.google-apps.folder", "")
		d.put("d1", "F", "Onboarding", gdoc, "New staff get a laptop on day one.")
		d.put("m1", "S", "backup.md", "text/markdown", "# Backups\n\nBackups run nightly at 02:00.")
		d.put("x1", "Elsewhere", "secret.txt", "text/plain", "Outside the folder.")
		d.put("t1", "F", "old.txt", "text/plain", "Trashed before the first sync.")
		d.trash("t1", false)
		c := newGDrive(t, d, "drive-token")
		src := ingest.Source{ID: "src_gd", Type: "gdrive"}
		res, err := f.in.SyncSource(ctx, "org_a", f.set, src, c, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Added != 2 || res.Files != 2 || len(d.exports) != 1 {
			t.Fatalf("first sync %+v, exports %v", res.Summary, d.exports)
		}
		res, err = f.in.SyncSource(ctx, "org_a", f.set, src, c, res.Cursor, nil)
		if err != nil || res.Files != 0 || res.Tombstoned != 0 {
			t.Fatalf("second sync %+v, %v", res, err)
		}
		d.put("d1", "F", "Onboarding", gdoc, "New staff get a laptop and a badge on day one.")
		d.trash("m1", false)
		d.put("S2", "S", "Security", "application/vnd.google-apps.folder", "")
		d.put("n1", "S2", "keys.txt", "text/plain", "Rotate keys every 90 days.")
		d.put("x1", "Elsewhere", "secret.txt", "text/plain", "Still outside the folder.")
		res, err = f.in.SyncSource(ctx, "org_a", f.set, src, c, res.Cursor, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Revised != 1 || res.Added != 1 || res.Tombstoned != 1 {
			t.Fatalf("third sync %+v tombstoned %d", res.Summary, res.Tombstoned)
		}
		d.put("m1", "S", "backup.md", "text/markdown", "# Backups\n\nBackups run nightly at 03:00.")
		d.trash("n1", true) // removed for good
		res, err = f.in.SyncSource(ctx, "org_a", f.set, src, c, res.Cursor, nil)
		if err != nil {
			t.Fatal(err)
		}
		var active []string
		f.ds.ActiveDocuments(ctx, f.set.ID, func(doc *dataset.Document) error {
			active = append(active, doc.SourceKey)
			return nil
		})
		if got := strings.Join(sortedCopy(active), ","); got != "d1/Onboarding.txt,m1/backup.md" {
			t.Fatalf("active = %s", got)
		}
	})
}

func TestGDriveExpiredToken(t *testing.T) {
	d := newFakeDrive(t)
	_, _, _, _, err := collect(t, newGDrive(t, d, "expired"), nil)
	if !errors.Is(err, ingest.ErrCredentials) {
		t.Fatalf("err = %v", err)
	}
	for _, bad := range []string{`{}`, `{"token_secret":"drive","folder":"x"}`, `{"token_secret":"drive","folder_id":"a'b"}`} {
		if _, err := ingest.NewConnector("gdrive", json.RawMessage(bad), secretsOf(map[string]string{"drive": "x"})); !errors.Is(err, ingest.ErrConfig) {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}
