package extract

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var dump = flag.Bool("dump", false, "print the extracted text of every sample corpus file")

const corpusDir = "../../examples/corpus"

// corpusFiles lists the sample corpus (examples/corpus) except the manifest.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() != "MANIFEST.md" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk corpus: %v", err)
	}
	if len(files) < 45 {
		t.Fatalf("corpus has %d files, want >= 45", len(files))
	}
	return files
}

func TestSampleCorpus(t *testing.T) {
	for _, p := range corpusFiles(t) {
		rel, _ := filepath.Rel(corpusDir, p)
		t.Run(rel, func(t *testing.T) {
			doc, err := ExtractFile(context.Background(), p, Options{})
			if err != nil {
				t.Fatalf("extract: %v", err)
			}
			if *dump {
				fmt.Printf("==== %s (%s) title=%q meta=%v pages=%d records=%d\n", rel, doc.Format, doc.Title, doc.Metadata, len(doc.Pages), len(doc.Records))
				for _, s := range doc.Sections {
					fmt.Printf("  section %q p%d [%d,%d)\n", strings.Join(s.Path, " > "), s.Page, s.Start, s.End)
				}
				fmt.Println(doc.Text)
			}
			checkInvariants(t, doc)
			if len(strings.TrimSpace(doc.Text)) < 200 {
				t.Errorf("only %d bytes of text", len(doc.Text))
			}
		})
	}
}

// checkInvariants verifies spans lie inside Text and are ordered.
func checkInvariants(t *testing.T, doc *Document) {
	t.Helper()
	prev := 0
	for i, s := range doc.Sections {
		if s.Start < 0 || s.End > len(doc.Text) || s.Start > s.End {
			t.Fatalf("section %d span [%d,%d) outside text of %d bytes", i, s.Start, s.End, len(doc.Text))
		}
		if s.Start < prev {
			t.Fatalf("section %d starts at %d before previous end %d", i, s.Start, prev)
		}
		prev = s.End
	}
	for i, p := range doc.Pages {
		if p.Start < 0 || p.End > len(doc.Text) || p.Start > p.End || p.Number != i+1 {
			t.Fatalf("page %d bad: %+v (text %d bytes)", i, p, len(doc.Text))
		}
	}
	for i, r := range doc.Records {
		if r.Start < 0 || r.End > len(doc.Text) || r.Start > r.End || doc.Text[r.Start:r.End] != r.Text {
			t.Fatalf("record %d span [%d,%d) does not hold its text", i, r.Start, r.End)
		}
	}
	if _, err := os.Stat(corpusDir); err != nil {
		t.Fatal(err)
	}
}
