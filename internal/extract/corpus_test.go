package extract

import (
	"context"
	"encoding/json"
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

// extractCorpus extracts every sample corpus file, keyed by relative path.
func extractCorpus(t *testing.T) map[string]*Document {
	t.Helper()
	docs := map[string]*Document{}
	for _, p := range corpusFiles(t) {
		rel, _ := filepath.Rel(corpusDir, p)
		doc, err := ExtractFile(context.Background(), p, Options{})
		if err != nil {
			t.Fatalf("extract %s: %v", rel, err)
		}
		docs[filepath.ToSlash(rel)] = doc
	}
	return docs
}

// TestCorpusPlantedValues checks that every PII value and hard negative
// listed in MANIFEST.md survives extraction verbatim, so redaction can be
// scored on extracted text.
func TestCorpusPlantedValues(t *testing.T) {
	docs := extractCorpus(t)
	manifest, err := os.ReadFile(filepath.Join(corpusDir, "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(manifest), "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) != 3 || !strings.HasPrefix(cells[1], "`") {
			continue
		}
		value := strings.Trim(cells[1], "`")
		file := strings.TrimSuffix(strings.TrimSpace(cells[2]), " |")
		n++
		t.Run(file+"/"+value, func(t *testing.T) {
			doc, ok := docs[file]
			if !ok {
				t.Fatalf("no document %s", file)
			}
			if !strings.Contains(doc.Text, value) {
				t.Fatalf("%q not in extracted text of %s", value, file)
			}
		})
	}
	if n < 40 {
		t.Fatalf("parsed %d planted values from MANIFEST.md, want >= 40", n)
	}
}

// TestCorpusQAAnswers checks that every QA answer in examples/qa occurs in
// the extracted text of its document.
func TestCorpusQAAnswers(t *testing.T) {
	docs := extractCorpus(t)
	data, err := os.ReadFile("../../examples/qa/qa.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 40 {
		t.Fatalf("%d QA pairs, want >= 40", len(lines))
	}
	for _, line := range lines {
		var p struct {
			ID       string   `json:"id"`
			Answers  []string `json:"answers"`
			Document string   `json:"document"`
		}
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatal(err)
		}
		t.Run(p.ID, func(t *testing.T) {
			doc := docs[p.Document]
			if doc == nil {
				t.Fatalf("no document %s", p.Document)
			}
			if !strings.Contains(doc.Text, p.Answers[0]) {
				t.Fatalf("answer %q not in extracted text of %s", p.Answers[0], p.Document)
			}
		})
	}
}

// TestCorpusStructure spot-checks structure per format on real files.
func TestCorpusStructure(t *testing.T) {
	docs := extractCorpus(t)
	tests := []struct {
		file     string
		pages    int
		section  []string
		contains string
		records  int
	}{
		{"policies/incident-response.pdf", 4, []string{"Incident Response Policy", "Communication", "Personal data breaches"}, "within 72 hours of becoming aware", 0},
		{"product/security-whitepaper.pdf", 3, []string{"Lattice Platform Security Whitepaper", "Availability and recovery"}, "Recovery point objective (RPO) | 15 minutes", 0},
		{"policies/leave.docx", 0, []string{"Leave Policy", "Family leave"}, "Primary carer parental leave | 26 weeks", 0},
		{"product/integrations.html", 0, []string{"Integrations Catalogue", "Telematics"}, "Samsara, Geotab, Webfleet", 0},
		{"policies/travel.md", 0, []string{"Business Travel Policy", "Hotels"}, "London | £180", 0},
		{"registers/vendor-register.csv", 0, []string{"V-010"}, "vendor: Mapforge", 12},
		{"chat/support-chat-2026-09.jsonl", 0, []string{"chat-2026-09-0006"}, "candidate 1 (preferred)", 9},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc := docs[tt.file]
			if doc == nil {
				t.Fatalf("no document")
			}
			if tt.pages > 0 && len(doc.Pages) < tt.pages {
				t.Errorf("%d pages, want >= %d", len(doc.Pages), tt.pages)
			}
			if len(doc.Records) != tt.records {
				t.Errorf("%d records, want %d", len(doc.Records), tt.records)
			}
			found := false
			for _, s := range doc.Sections {
				if strings.Join(s.Path, "/") == strings.Join(tt.section, "/") {
					found = true
				}
			}
			if !found {
				t.Errorf("no section %q", tt.section)
			}
			if !strings.Contains(doc.Text, tt.contains) {
				t.Errorf("text lacks %q", tt.contains)
			}
			for _, chrome := range []string{"Subscribe to product updates", "We use cookies", "page 1 of"} {
				if strings.Contains(doc.Text, chrome) {
					t.Errorf("text keeps page chrome %q", chrome)
				}
			}
		})
	}
}

// checkInvariants verifies spans lie inside Text and are ordered.
func checkInvariants(t *testing.T, doc *Document) {
	t.Helper()
	prev := 0
	for i, s := range doc.Sections {
		if txt := doc.Text[s.Start:s.End]; strings.TrimSpace(txt) != txt {
			t.Fatalf("section %d %q has surrounding whitespace: %q", i, s.Path, txt)
		}
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
