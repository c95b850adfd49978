package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/whet-dev/whet/internal/extract"
)

// FuzzNextLink checks the Link header parser never panics and only returns
// targets that were inside angle brackets.
func FuzzNextLink(f *testing.F) {
	for _, s := range []string{
		`<https://api.example.com/items?page=2>; rel="next", <https://api.example.com/items?page=9>; rel="last"`,
		`</items?cursor=abc>; rel=next`,
		`<a>; rel="prev next"`,
		`<>; rel="next"`,
		`<x>;;; rel`,
		`garbage`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got := nextLink([]string{h})
		if got != "" && !strings.Contains(h, "<"+got+">") {
			t.Fatalf("nextLink(%q) = %q, not a bracketed target", h, got)
		}
	})
}

// FuzzRetryAfter checks Retry-After parsing never panics or goes negative
// except for "absent".
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "7", "-3", "Wed, 21 Oct 2015 07:28:00 GMT", "soon", "99999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, h string) {
		if d := retryAfter(h, now); d < -1 {
			t.Fatalf("retryAfter(%q) = %v", h, d)
		}
	})
}

// FuzzRecordItem checks that a record's metadata survives the trip through
// the Markdown front matter the extractor reads: every non-empty value
// (whitespace collapsed) comes back under its key.
func FuzzRecordItem(f *testing.F) {
	f.Add("author", `Ana "the fixer" O'Neil`, "Printer jams on floor 2.")
	f.Add("status", "open: waiting", "---\nnot front matter\n---")
	f.Add("Customer Tier", "gold\nplus", "# Heading\n\nBody *with* markup.")
	f.Fuzz(func(t *testing.T, key, value, text string) {
		if !utf8.ValidString(key) || !utf8.ValidString(value) || !utf8.ValidString(text) || strings.ContainsAny(key, "#\"'") {
			return
		}
		it := recordItem("42", "https://x/42", time.Time{}, text, map[string]string{key: value})
		rc, _ := it.Open(context.Background())
		body, _ := io.ReadAll(rc)
		doc, err := extract.ExtractWith(context.Background(), it.Key, "", bytes.NewReader(body), extract.Options{})
		if err != nil {
			return // e.g. empty text: reported per item, not a crash
		}
		k := strings.ToLower(strings.TrimSpace(strings.Map(func(r rune) rune {
			if r == ':' || r == '\n' || r == '\r' || r == ' ' || r == '\t' {
				return '_'
			}
			return r
		}, key)))
		want := strings.Join(strings.Fields(value), " ")
		if k == "" || want == "" || strings.TrimSpace(k) != k || k == "lang" || k == "date" || k == "updated" || k == "last_modified" || k == "lastmod" || k == "content_type" {
			return
		}
		if got := doc.Metadata[k]; got != want {
			b, _ := json.Marshal(doc.Metadata)
			t.Fatalf("metadata %q = %q, want %q (all: %s)\n%s", k, got, want, b, body)
		}
	})
}
