package ingest_test

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/dedup"
	"github.com/whet-dev/whet/internal/ingest"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

func corpusDir(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", "corpus")
}

// ingestAndProcess runs the whole pipeline on the sample corpus in a fresh
// database and blob store.
func ingestAndProcess(t *testing.T, db *store.DB, cfg ingest.ProcessConfig) (*dataset.Version, *ingest.ProcessReport, *fixture) {
	t.Helper()
	ctx := context.Background()
	f := newFixture(t, db, dataset.KindDocuments)
	sum, err := f.in.SyncFolder(ctx, "org_a", f.set, ingest.Source{ID: "src_corpus", Type: "folder", URI: "examples/corpus"},
		ingest.FolderConfig{Path: corpusDir(t), Exclude: []string{"MANIFEST.md"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Errors > 0 {
		for _, r := range sum.Results {
			if r.Status == "error" {
				t.Errorf("%s: %s", r.Name, r.Error)
			}
		}
	}
	v, rep, created, err := f.in.Process(ctx, "org_a", "usr_1", "", f.set, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("first processing did not create a version")
	}
	return v, rep, f
}

func TestProcessSampleCorpus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cfg := ingest.ProcessConfig{Splits: &ingest.SplitConfig{Fractions: dataset.Fractions{Train: 0.8, Validation: 0.1, Test: 0.1}, Seed: "s"},
			WeakLabels: &ingest.WeakLabelConfig{Functions: []ingest.LabelFunction{
				{Name: "policy_path", Kind: "source", Pattern: "policies/**", Label: "policy"},
				{Name: "procedure_kw", Kind: "keyword", Pattern: "step 1, procedure", Label: "procedure"},
			}}}
		v, rep, f := ingestAndProcess(t, db, cfg)
		if v.Items < 30 {
			t.Fatalf("only %d items in the version", v.Items)
		}
		if rep.Redaction.Spans == 0 || rep.Redaction.ByType["email"] == 0 {
			t.Fatalf("no PII redacted: %+v", rep.Redaction.ByType)
		}
		near := 0
		for _, c := range rep.Dedup.Clusters {
			if !c.Exact {
				near++
			}
		}
		if near == 0 {
			t.Fatalf("no near-duplicate clusters found: %+v", rep.Dedup)
		}
		var out strings.Builder
		if _, err := f.ds.Export(ctx, "org_a", f.set.ID, v.Version, &out); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "@northwind") && !strings.Contains(out.String(), "[EMAIL]") {
			t.Fatal("export still holds e-mail addresses")
		}
		// Same documents, same config: no new version.
		again, _, created, err := f.in.Process(ctx, "org_a", "usr_1", "", f.set, cfg, nil)
		if err != nil || created || again.LineageHash != v.LineageHash {
			t.Fatalf("reprocessing: created=%v hash %s vs %s err %v", created, again.LineageHash, v.LineageHash, err)
		}
	})
}

// TestProcessReproducible checks that a fresh database (and on PostgreSQL as
// well as SQLite) reproduces the same lineage hash from the same sources.
func TestProcessReproducible(t *testing.T) {
	var hashes []string
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		v, _, _ := ingestAndProcess(t, db, ingest.ProcessConfig{})
		hashes = append(hashes, v.LineageHash)
	})
	db2 := storetest.SQLite(t)
	v, _, _ := ingestAndProcess(t, db2, ingest.ProcessConfig{})
	hashes = append(hashes, v.LineageHash)
	for _, h := range hashes[1:] {
		if h != hashes[0] {
			t.Fatalf("lineage hashes differ across fresh stores: %v", hashes)
		}
	}
}

// TestProcessKeepNewest: the sample corpus holds two policies beside their
// archived earlier revisions, near duplicates: the data retention policy
// (front matter date 2026-03-30; archive 2024-05-20) and the remote work
// policy (.docx, both modified 2026-10-01, created 2026-03-02; archive
// 2025-02-03). "earliest" keeps whichever was ingested first (the
// archives); "newest" keeps the current policies by their metadata dates,
// created breaking the tie on modified.
func TestProcessKeepNewest(t *testing.T) {
	current := []string{"policies/data-retention.md", "policies/remote-work.docx"}
	for _, keep := range []dedup.Keep{dedup.KeepEarliest, dedup.KeepNewest} {
		t.Run(string(keep), func(t *testing.T) {
			dd := dedup.DefaultConfig()
			dd.ShingleUnit, dd.Keep = dedup.UnitChar, keep
			_, rep, _ := ingestAndProcess(t, storetest.SQLite(t), ingest.ProcessConfig{Dedup: &dd})
			for _, name := range current {
				archived := strings.Replace(name, "policies/", "policies/archive/", 1)
				kept := ""
				for _, c := range rep.Dedup.Clusters {
					for _, id := range append([]string{c.Keep}, c.Drop...) {
						if n := rep.Names[id]; n == name || strings.HasPrefix(n, strings.TrimSuffix(archived, filepath.Ext(archived))+"-") {
							kept = rep.Names[c.Keep]
						}
					}
				}
				t.Logf("keep %s: kept %s", keep, kept)
				switch {
				case kept == "":
					t.Fatalf("%s and its archived revision were not clustered: %+v", name, rep.Dedup.Clusters)
				case keep == dedup.KeepNewest && kept != name:
					t.Fatalf("keep newest kept %s, want %s", kept, name)
				}
			}
		})
	}
}
