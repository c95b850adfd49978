package pii

import (
	"fmt"
	"strings"
	"testing"

	"github.com/whet-dev/whet/internal/dedup"
	"github.com/whet-dev/whet/internal/normalize"
)

// BenchmarkProcessDocument measures the per-document processing path that
// ingestion runs after extraction: normalise, detect the language, redact
// (mask) and fingerprint, on ~2 KB business documents with a few PII items
// each, on one goroutine. docs/cpu-s divides by the process's CPU time,
// which stays meaningful when the machine is shared.
func BenchmarkProcessDocument(b *testing.B) {
	det, err := NewDetector()
	if err != nil {
		b.Fatal(err)
	}
	lang, err := normalize.NewLanguageDetector()
	if err != nil {
		b.Fatal(err)
	}
	para := "The quarterly review covers support volumes, the onboarding flow and the plan for the spring release.  " +
		"Teams reported steady progress on the migration to the new billing system,\r\nwith two open risks around data " +
		"retention and the rollout schedule for customers in the EU. The steering group agreed to revisit the budget " +
		"in March, after the audit results are in, and asked every team lead to send an updated estimate.\n\n"
	docs := make([]string, 64)
	for i := range docs {
		var sb strings.Builder
		for sb.Len() < 1800 {
			sb.WriteString(para)
		}
		fmt.Fprintf(&sb, "Contact: Maria Lopez <m.lopez%d@example.com>, +1 415 555 %04d, card 4111 1111 1111 1111.\n", i, i)
		docs[i] = sb.String()
	}
	cfg := Config{Enabled: true, Mode: ModeMask}
	n := 0
	c0 := cpuTime()
	for b.Loop() {
		d := docs[n%len(docs)]
		n++
		t := normalize.Text(d)
		_ = lang.Detect(t)
		red, _ := det.Redact(t, cfg)
		_ = dedup.Fingerprint(red)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	if cpu := (cpuTime() - c0).Seconds(); cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu, "docs/cpu-s")
	}
}
