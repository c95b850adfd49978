package ingest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/whet-dev/whet/internal/pii"
)

// RedactConfig is the processing body's "redact" part (pii.Config's JSON).
type RedactConfig = pii.Config

// RedactedSpan is one redaction in the report: offsets and replacement,
// never the original value.
type RedactedSpan = pii.Replacement

// RedactionReport is the redaction part of a processing report.
type RedactionReport struct {
	ByType    map[string]int    `json:"by_type"`
	Spans     int               `json:"spans"`
	Documents []RedactedDocItem `json:"documents"`
}

// RedactedDocItem lists the redactions made in one document.
type RedactedDocItem struct {
	ID     string         `json:"id"`
	Source string         `json:"source,omitempty"`
	Spans  []RedactedSpan `json:"spans"`
}

// TypeCounts lists the redacted spans by type, "email 37, phone 24", in
// type order.
func (r *RedactionReport) TypeCounts() string {
	types := make([]string, 0, len(r.ByType))
	for t := range r.ByType {
		types = append(types, t)
	}
	sort.Strings(types)
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%s %d", t, r.ByType[t])
	}
	return strings.Join(parts, ", ")
}

func (r *RedactionReport) add(id, source string, spans []RedactedSpan) {
	if len(spans) == 0 {
		return
	}
	for _, s := range spans {
		r.ByType[string(s.Type)]++
	}
	r.Spans += len(spans)
	r.Documents = append(r.Documents, RedactedDocItem{ID: id, Source: source, Spans: spans})
}

type redactor struct {
	det *pii.Detector
	cfg pii.Config
}

// newRedactor validates the redaction config (pseudonyms need the server's
// secret key, never one from the request).
func newRedactor(cfg *RedactConfig, key []byte) (*redactor, error) {
	c := *cfg
	c.Key = key
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%w: redact: %v", ErrConfig, err)
	}
	det, err := pii.NewDetector()
	if err != nil {
		return nil, err
	}
	return &redactor{det: det, cfg: c}, nil
}

func (r *redactor) redact(text string) (string, []RedactedSpan) {
	out, rep := r.det.Redact(text, r.cfg)
	return out, rep.Spans
}
