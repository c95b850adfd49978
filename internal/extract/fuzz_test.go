package extract

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var writeSeeds = flag.Bool("writeseeds", false, "rewrite the committed fuzz seed corpora under testdata/fuzz")

// fuzzLimits keep one fuzz input cheap.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxUncompressed: 4 << 20, MaxZipEntries: 64, MaxRecords: 10_000, MaxPages: 50}

// fuzzExtract runs one input through a forced format and checks that it
// either succeeds with consistent spans or fails with a *FileError.
func fuzzExtract(t *testing.T, name string, format Format, data []byte) {
	doc, err := ExtractWith(context.Background(), name, "", bytes.NewReader(data), Options{Limits: fuzzLimits, Format: format})
	if err != nil {
		var fe *FileError
		if !errors.As(err, &fe) || fe.Name != name {
			t.Fatalf("error %v (%T) is not a *FileError naming %s", err, err, name)
		}
		return
	}
	checkDoc(t, doc)
}

func FuzzPDF(f *testing.F) {
	f.Add(pdfOf(f, "", []string{"Heading", "Body text on page one."}, []string{"Second", "More."}))
	f.Add([]byte("%PDF-1.4\n%%EOF\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzExtract(t, "fuzz.pdf", FormatPDF, data) })
}

func FuzzDOCX(f *testing.F) {
	f.Add(docxOf(f, para("Title", "T")+para("Heading1", "H")+para("", "body")))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzExtract(t, "fuzz.docx", FormatDOCX, data) })
}

func FuzzHTML(f *testing.F) {
	f.Add([]byte("<html><body><nav>x</nav><main><h1>A</h1><p>b <a href=u>c</a></p><table><tr><td>1</td></tr></table></main></body></html>"))
	f.Add([]byte("<div><p>unclosed <b>bold<h2>H</div>"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzExtract(t, "fuzz.html", FormatHTML, data) })
}

func FuzzMarkdown(f *testing.F) {
	f.Add([]byte("---\ntitle: T\n---\n# A\n\ntext [l](u) **b** `c`\n\n## B\n\n- x\n- y\n\n```\ncode\n```\n| a | b |\n|---|---|\n| 1 | 2 |\n"))
	f.Add([]byte("Setext\n===\n\n*a _b* c_ __d__ ***e***\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzExtract(t, "fuzz.md", FormatMarkdown, data) })
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte("id,text,meta\n1,hello,x\n2,\"multi\nline\",y\n"))
	f.Add([]byte("a,b\n\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzExtract(t, "fuzz.csv", FormatCSV, data) })
}

func FuzzJSONL(f *testing.F) {
	f.Add([]byte("{\"id\":\"a\",\"text\":\"t\",\"n\":{\"x\":[1,2]}}\n{\"id\":\"b\"}\n"))
	f.Add([]byte(`{"messages":[{"role":"user","content":"hi"}],"feedback":{"rating":"thumbs_up"}}` + "\n"))
	f.Add([]byte(`{"conversations":[{"from":"human","value":"q"},{"from":"gpt","value":"a"}]}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzExtract(t, "fuzz.jsonl", FormatJSONL, data)
		fuzzExtract(t, "fuzz.jsonl", FormatChat, data)
		fuzzExtract(t, "fuzz.json", FormatJSON, data)
	})
}

// TestWriteFuzzSeeds rewrites testdata/fuzz/<target>/ from the sample
// corpus when run with -writeseeds, so the committed seeds are real files.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -writeseeds to rewrite testdata/fuzz")
	}
	targets := map[string][]string{
		"FuzzPDF":      {"policies/incident-response.pdf", "reports/q3-2026-ops-review.pdf"},
		"FuzzDOCX":     {"policies/leave.docx", "product/sla.docx"},
		"FuzzHTML":     {"faq/faq.html", "product/integrations.html", "procedures/handle-refund.html"},
		"FuzzMarkdown": {"policies/travel.md", "procedures/deploy-release.md", "product/api-authentication.md"},
		"FuzzCSV":      {"registers/vendor-register.csv", "support/ticket-export.csv"},
		"FuzzJSONL":    {"chat/support-chat-2026-09.jsonl", "chat/answer-preferences.jsonl"},
	}
	for target, files := range targets {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, name := range files {
			data, err := os.ReadFile(filepath.Join(corpusDir, name))
			if err != nil {
				t.Fatal(err)
			}
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("corpus-%d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
