package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/blob/local"
	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/ingest"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

type dataEnv struct {
	owner *api.Client
	svc   *dataset.Service
	db    *store.DB
	orgID string
}

// newDataEnv serves the dataset routes with a job worker running.
func newDataEnv(t *testing.T, db *store.DB) *dataEnv {
	t.Helper()
	ctx := context.Background()
	al := audit.New(db, nil)
	as, err := auth.NewService(ctx, db, al, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	res, err := as.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	bs, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := dataset.NewService(db, bs, al, nil)
	in, err := ingest.NewIngester(db, al, svc)
	if err != nil {
		t.Fatal(err)
	}
	q := jobs.New(db, jobs.Options{Audit: al, Heartbeat: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond})
	in.RegisterJobs(q)
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Work(wctx, 2); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	srv := api.New(api.Deps{DB: db, Auth: as, Audit: al, Jobs: q, Blob: bs, Datasets: svc, Ingest: in})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &dataEnv{owner: api.NewClient(hs.URL, res.Token), svc: svc, db: db, orgID: res.Org.ID}
}

// finish polls a job until it ends (with a deadline) and returns it.
func (e *dataEnv) finish(t *testing.T, id string) api.Job {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		j, err := e.owner.GetJob(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		switch j.Status {
		case "succeeded":
			return j
		case "failed", "cancelled":
			t.Fatalf("job %s %s: %s", id, j.Status, j.Error)
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after the deadline", id, j.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type uploadResult struct {
	ingest.Summary
	Archives []struct {
		Name  string `json:"name"`
		Error string `json:"error"`
	} `json:"archives"`
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encryptedPDF(t *testing.T) []byte {
	t.Helper()
	p := fpdf.New("P", "mm", "A4", "")
	p.SetProtection(fpdf.CnProtectPrint, "user-secret", "owner-secret")
	p.AddPage()
	p.SetFont("Helvetica", "", 12)
	p.Cell(40, 10, "Confidential salary bands")
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sampleFile(t *testing.T, rel string) []byte {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "examples", "corpus", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDatasetsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newDataEnv(t, db)
		prj, err := e.owner.CreateProject(ctx, api.ProjectCreate{Name: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		ds, err := e.owner.CreateDataset(ctx, prj.ID, api.DatasetCreate{Name: "policies", Kind: "documents"})
		if err != nil {
			t.Fatal(err)
		}

		var firstVersion dataset.Version
		t.Run("upload multipart and zip, process, versions, manifest, lineage, export, card", func(t *testing.T) {
			archive := zipOf(t, map[string][]byte{
				"handbook/travel.md":  []byte("# Travel\n\nBook trains for trips under 500 km. Contact jane.doe@example.com for help.\n"),
				"handbook/refunds.md": []byte("# Refunds\n\nRefunds are paid within 30 days of approval by the finance team.\n"),
			})
			acc, err := e.owner.Upload(ctx, ds.ID, "internal", []api.UploadFile{
				{Name: "expense.md", Body: bytes.NewReader(sampleFile(t, "policies/expense.md"))},
				{Name: "sla.docx", Body: bytes.NewReader(sampleFile(t, "product/sla.docx"))},
				{Name: "handbook.zip", Body: bytes.NewReader(archive)},
			})
			if err != nil {
				t.Fatal(err)
			}
			j := e.finish(t, acc.JobID)
			var res uploadResult
			if err := json.Unmarshal(j.Result, &res); err != nil {
				t.Fatalf("upload result %s: %v", j.Result, err)
			}
			if res.Added != 4 || res.Errors != 0 {
				t.Fatalf("upload result: %s", j.Result)
			}
			acc, err = e.owner.ProcessDataset(ctx, ds.ID, ingest.ProcessConfig{})
			if err != nil {
				t.Fatal(err)
			}
			e.finish(t, acc.JobID)
			// A second, different version (no redaction) to check the order.
			acc, err = e.owner.ProcessDataset(ctx, ds.ID, ingest.ProcessConfig{Redact: &ingest.RedactConfig{Enabled: false}})
			if err != nil {
				t.Fatal(err)
			}
			e.finish(t, acc.JobID)
			vs, err := e.owner.ListDatasetVersions(ctx, ds.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != 2 || vs[0].Version != "1.1.0" || vs[1].Version != "1.0.0" {
				t.Fatalf("versions not newest first: %+v", vs)
			}
			firstVersion = vs[1]
			vd, err := e.owner.DatasetVersion(ctx, ds.ID, "1.0.0")
			if err != nil {
				t.Fatal(err)
			}
			if vd.Manifest == nil || len(vd.Manifest.Items) != 4 || vd.LineageHash == "" {
				t.Fatalf("version detail: %+v", vd)
			}
			if h, _ := vd.Manifest.LineageHash(); h != vd.LineageHash {
				t.Fatalf("manifest hashes to %s, version says %s", h, vd.LineageHash)
			}
			var g dataset.LineageGraph
			if err := e.owner.Do(ctx, http.MethodGet, "/v1/datasets/"+ds.ID+"/versions/1.0.0/lineage", nil, &g); err != nil {
				t.Fatal(err)
			}
			types := map[string]int{}
			for _, n := range g.Nodes {
				types[n.Type]++
			}
			if types["dataset_version"] != 1 || types["processing"] != 1 || types["source"] == 0 {
				t.Fatalf("lineage graph nodes: %v", types)
			}
			var out bytes.Buffer
			if err := e.owner.ExportDataset(ctx, ds.ID, "1.0.0", &out); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 4 {
				t.Fatalf("export has %d lines, want 4", len(lines))
			}
			sawMask := false
			for _, l := range lines {
				var d dataset.ExportLine
				if err := json.Unmarshal([]byte(l), &d); err != nil || d.ID == "" || d.Text == "" {
					t.Fatalf("export line %q: %v", l, err)
				}
				if strings.Contains(d.Text, "jane.doe@example.com") {
					t.Fatal("the redacted version exports an e-mail address")
				}
				sawMask = sawMask || strings.Contains(d.Text, "[EMAIL]")
			}
			if !sawMask {
				t.Fatal("no [EMAIL] mask in the export")
			}
			var card bytes.Buffer
			if err := e.owner.DatasetCard(ctx, ds.ID, "latest", &card); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(card.String(), "policies") || !strings.Contains(card.String(), "#") {
				t.Fatalf("card:\n%s", card.String())
			}
		})

		t.Run("record import with per-line errors", func(t *testing.T) {
			inst, err := e.owner.CreateDataset(ctx, prj.ID, api.DatasetCreate{Name: "qa", Kind: "instruction"})
			if err != nil {
				t.Fatal(err)
			}
			body := `{"instruction":"Say hi","output":"Hi"}` + "\n" +
				`{"instruction":"No output"}` + "\n" +
				`not json` + "\n" +
				`{"instruction":"Translate","input":"chat","output":"cat"}` + "\n"
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.owner.BaseURL+"/v1/datasets/"+inst.ID+"/records/import", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-ndjson")
			resp, err := e.owner.Send(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var fr ingest.FileResult
			if err := json.NewDecoder(resp.Body).Decode(&fr); err != nil {
				t.Fatal(err)
			}
			if fr.Records != 2 || len(fr.LineErrors) != 2 {
				t.Fatalf("import result: %+v", fr)
			}
			lines := map[int]bool{}
			for _, le := range fr.LineErrors {
				lines[le.Line] = true
			}
			if !lines[2] || !lines[3] {
				t.Fatalf("line errors %+v, want lines 2 and 3", fr.LineErrors)
			}
		})

		t.Run("bad input is reported per file and the rest proceeds", func(t *testing.T) {
			bad, err := e.owner.CreateDataset(ctx, prj.ID, api.DatasetCreate{Name: "bad", Kind: "documents"})
			if err != nil {
				t.Fatal(err)
			}
			bomb := zipOf(t, map[string][]byte{"zeros.txt": make([]byte, 65<<20)})
			binary := make([]byte, 4096)
			for i := range binary {
				binary[i] = byte(i * 7919 % 251)
			}
			files := []api.UploadFile{
				{Name: "good.md", Body: strings.NewReader("# Good\n\nThis document is fine and should be ingested.\n")},
				{Name: "corrupt.pdf", Body: strings.NewReader("%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage")},
				{Name: "encrypted.pdf", Body: bytes.NewReader(encryptedPDF(t))},
				{Name: "corrupt.docx", Body: strings.NewReader("PK\x03\x04 this is not a real zip")},
				{Name: "encrypted.docx", Body: bytes.NewReader(zipOf(t, map[string][]byte{"EncryptionInfo": {1, 2, 3}, "EncryptedPackage": {4, 5, 6}}))},
				{Name: "bomb.zip", Body: bytes.NewReader(bomb)},
				{Name: "notes.txt", Body: bytes.NewReader(binary)},
				{Name: "latin1.txt", Body: strings.NewReader("Caf\xe9 au lait costs \xa33 at the caf\xe9 downstairs.\n")},
				{Name: "also-good.txt", Body: strings.NewReader("Another fine plain text document for the batch.\n")},
			}
			acc, err := e.owner.Upload(ctx, bad.ID, "", files)
			if err != nil {
				t.Fatal(err)
			}
			j := e.finish(t, acc.JobID)
			var res struct {
				ingest.Summary
				Archives []map[string]any `json:"archives"`
			}
			if err := json.Unmarshal(j.Result, &res); err != nil {
				t.Fatal(err)
			}
			t.Logf("upload result: %s", j.Result)
			status := map[string]string{}
			for _, r := range res.Results {
				status[r.Name] = r.Status
				if r.Status == "error" && r.Error == "" {
					t.Errorf("%s: error without a message", r.Name)
				}
			}
			for _, name := range []string{"good.md", "also-good.txt"} {
				if status[name] != "added" {
					t.Errorf("%s: %q, want added (result %s)", name, status[name], j.Result)
				}
			}
			errText := map[string]string{}
			for _, r := range res.Results {
				errText[r.Name] = r.Error
			}
			for name, want := range map[string]string{"corrupt.pdf": "corrupt", "encrypted.pdf": "encrypted", "corrupt.docx": "corrupt",
				"encrypted.docx": "encrypted", "notes.txt": "binary", "bomb.zip": "bad archive"} {
				if status[name] != "error" || !strings.Contains(errText[name], want) {
					t.Errorf("%s: %q %q, want an error saying %q", name, status[name], errText[name], want)
				}
			}
			// Invalid UTF-8 is decoded with replacements and the count is
			// reported on the document.
			if status["latin1.txt"] != "added" {
				t.Errorf("latin1.txt: %q, want added", status["latin1.txt"])
			}
			n := 0
			err = e.svc.ActiveDocuments(ctx, bad.ID, func(d *dataset.Document) error {
				n++
				if d.SourceKey == "latin1.txt" {
					if c, _ := d.Metadata["invalid_utf8"].(float64); c < 1 {
						t.Errorf("latin1.txt metadata does not report invalid UTF-8: %v", d.Metadata)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// Nothing from the failed files became a document.
			if n != 3 {
				t.Fatalf("%d documents stored, want 3", n)
			}
		})

		t.Run("another organisation's dataset is 404", func(t *testing.T) {
			now := store.FormatTime(time.Now())
			db.SQL.ExecContext(ctx, db.Rebind(`INSERT INTO organizations (id, name, created_at, updated_at) VALUES ('org_other', 'other', ?, ?)`), now, now)
			db.SQL.ExecContext(ctx, db.Rebind(`INSERT INTO projects (id, org_id, name, created_at, updated_at) VALUES ('prj_other', 'org_other', 'x', ?, ?)`), now, now)
			foreign, err := e.svc.Create(ctx, "org_other", "usr_x", "prj_other", "secret", dataset.KindDocuments, "")
			if err != nil {
				t.Fatal(err)
			}
			checks := map[string]func() error{
				"get": func() error {
					return e.owner.Do(ctx, http.MethodGet, "/v1/datasets/"+foreign.ID, nil, &struct{}{})
				},
				"versions": func() error { _, err := e.owner.ListDatasetVersions(ctx, foreign.ID); return err },
				"process":  func() error { _, err := e.owner.ProcessDataset(ctx, foreign.ID, ingest.ProcessConfig{}); return err },
				"upload": func() error {
					_, err := e.owner.Upload(ctx, foreign.ID, "", []api.UploadFile{{Name: "a.txt", Body: strings.NewReader("hello there")}})
					return err
				},
				"export": func() error { return e.owner.ExportDataset(ctx, foreign.ID, "latest", &bytes.Buffer{}) },
				"version of mine through theirs": func() error {
					_, err := e.owner.DatasetVersion(ctx, foreign.ID, firstVersion.LineageHash)
					return err
				},
			}
			for name, call := range checks {
				t.Run(name, func(t *testing.T) {
					err := call()
					var p *api.Problem
					if !errors.As(err, &p) || p.Status != http.StatusNotFound {
						t.Fatalf("got %v, want 404", err)
					}
				})
			}
		})

		t.Run("synthesize and mine through process", func(t *testing.T) {
			qa, err := e.owner.CreateDataset(ctx, prj.ID, api.DatasetCreate{Name: "synth", Kind: "instruction"})
			if err != nil {
				t.Fatal(err)
			}
			acc, err := e.owner.ProcessDataset(ctx, ds.ID, ingest.ProcessConfig{Synthesize: &ingest.SynthConfig{TargetDatasetID: qa.ID}})
			if err != nil {
				t.Fatal(err)
			}
			j := e.finish(t, acc.JobID)
			var res struct {
				Synthesis ingest.SynthReport `json:"synthesis"`
			}
			if err := json.Unmarshal(j.Result, &res); err != nil || res.Synthesis.Pairs == 0 {
				t.Fatalf("process result %s: %v", j.Result, err)
			}
			vs, err := e.owner.ListDatasetVersions(ctx, qa.ID)
			if err != nil || len(vs) != 1 || vs[0].Items != res.Synthesis.Pairs {
				t.Fatalf("synthesized versions %+v (%v), want one with %d items", vs, err, res.Synthesis.Pairs)
			}
			_, err = e.owner.ProcessDataset(ctx, ds.ID, ingest.ProcessConfig{Synthesize: &ingest.SynthConfig{}})
			var p *api.Problem
			if !errors.As(err, &p) || p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("synthesize without a target: %v, want 422", err)
			}
		})
	})
}
