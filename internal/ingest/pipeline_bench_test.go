package ingest_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/whet-dev/whet/internal/dedup"
	"github.com/whet-dev/whet/internal/extract"
	"github.com/whet-dev/whet/internal/ingest"
	"github.com/whet-dev/whet/internal/normalize"
	"github.com/whet-dev/whet/internal/pii"
)

// benchInputs are small documents of each generated format in
// `whet bench ingest`.
var benchInputs = map[string]string{
	"doc.md": "# Expense policy\n\n## Receipts\n\nKeep every receipt over £25 and submit the claim within 30 days. " +
		"Contact Alice Martin at alice.martin@example.com for help.\n\n1. Photograph the receipt.\n2. Submit the claim.\n",
	"page.html": "<html><head><title>Refunds</title></head><body><nav><a href=\"/\">Home</a></nav><main><h1>Refunds</h1>" +
		"<p>Refunds are paid within 30 days of approval. Call +44 20 7946 0123 during office hours.</p></main></body></html>",
	"rows.csv": "id,category,description,amount\n1,travel,\"Train to Leeds for the carrier review, approved by Ben Okafor.\",120\n",
	"note.txt": "Dispatch must confirm every route before 07:00. The depot manager approves overtime.\n\nDrivers log detention after two hours.\n",
}

// BenchmarkDocumentPipeline measures extract + normalise + redact +
// fingerprint per document, the per-document work of ingestion and
// processing, for each generated format.
func BenchmarkDocumentPipeline(b *testing.B) {
	det, err := pii.NewDetector()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for name, body := range benchInputs {
		b.Run(name, func(b *testing.B) {
			raw := []byte(body)
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				doc, err := extract.ExtractWith(ctx, name, "", bytes.NewReader(raw), extract.Options{})
				if err != nil {
					b.Fatal(err)
				}
				text := doc.Text
				if len(doc.Records) > 0 {
					text = doc.Records[0].Text
				}
				red, _ := det.Redact(normalize.Text(text), pii.Config{Enabled: true})
				if dedup.Fingerprint(red) == "" {
					b.Fatal("no fingerprint")
				}
			}
		})
	}
}

// BenchmarkSynthesize measures instruction synthesis on a section-rich
// document.
func BenchmarkSynthesize(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("Expense Policy\n\n")
	for i := 0; i < 20; i++ {
		sb.WriteString("Section heading\n\nSpend company money as if it were your own, and keep receipts.\n\n")
		sb.WriteString("Claim total | Approver\nUp to £2,500 | Line manager\nOver £10,000 | Chief Financial Officer\n\n")
		sb.WriteString("- Per diem: a fixed daily allowance for meals while travelling.\n\n")
	}
	doc := ingest.SynthDoc{Fingerprint: "sha256:aa", Text: sb.String()}
	b.SetBytes(int64(len(doc.Text)))
	for b.Loop() {
		if len(ingest.Synthesize([]ingest.SynthDoc{doc}, ingest.SynthConfig{})) == 0 {
			b.Fatal("no pairs")
		}
	}
}
