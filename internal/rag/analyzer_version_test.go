package rag

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestAnalyzerV0 pins the version-0 analyzer to what indexes built before
// non-English stemming hold: stemming for English only, the old stop lists,
// no elision, no NFC composition.
func TestAnalyzerV0(t *testing.T) {
	cases := []struct {
		lang, text string
		want       []string
	}{
		{"en", "The running dogs", []string{"run", "dog"}},
		{"", "Running", []string{"run"}},
		{"de", "Die Häuser und Gärten", []string{"häuser", "gärten"}},
		{"fr", "les maisons de l'homme", []string{"les", "maisons", "l'homme"}},
		{"sv", "och husen", []string{"och", "husen"}},
		{"german", "die Häuser", []string{"die", "häuser"}}, // not canonicalised then
		{"none", "The Dogs", []string{"the", "dogs"}},
		{"de", "Ha\u0308user", []string{"ha\u0308user"}}, // decomposed stays decomposed
	}
	for _, tc := range cases {
		if got := newAnalyzerV0(tc.lang).Tokens(tc.text); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Tokens(%q) = %q, want %q", tc.lang, tc.text, got, tc.want)
		}
	}
}

// TestIndexKeepsItsAnalyzer builds a German index the way a build before
// analyzer versions did (no version stored, unstemmed postings), reopens it
// and checks that queries and later upserts are analysed as it was built,
// while a new index stores the current version and stems.
func TestIndexKeepsItsAnalyzer(t *testing.T) {
	ctx := context.Background()
	de := []Doc{
		{ID: "a", Text: "Die Häuser am See sind alt."},
		{ID: "b", Text: "Ein Haus in der Stadt."},
	}
	docsOf := func(hits []Hit) []string {
		var out []string
		for _, h := range hits {
			out = append(out, h.Citation.DocumentID)
		}
		return out
	}
	search := func(t *testing.T, x *Index, q string) []string {
		t.Helper()
		hits, err := x.Search(ctx, Query{Text: q, K: 5})
		if err != nil {
			t.Fatal(err)
		}
		return docsOf(hits)
	}

	t.Run("old index", func(t *testing.T) {
		dir := t.TempDir()
		x, err := Create(dir, Config{BM25: BM25Config{Language: "de"}}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		// What the old build wrote: no analyzer version, unstemmed terms.
		x.st.Config.BM25.AnalyzerVersion = 0
		x.an = newAnalyzerV0("de")
		if _, err := x.Upsert(ctx, de[:1]); err != nil {
			t.Fatal(err)
		}
		old, err := Open(dir, 0, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if v := old.Stats().Config.BM25.AnalyzerVersion; v != 0 || old.an.Version != 0 {
			t.Fatalf("reopened with analyzer version %d (config %d), want 0", old.an.Version, v)
		}
		// Stemming the query ("häuser" → "haus") would miss the
		// unstemmed posting "häuser".
		if got := search(t, old, "Häuser"); !reflect.DeepEqual(got, []string{"a"}) {
			t.Fatalf("Häuser found %v in the old index, want [a]", got)
		}
		// Upserts keep adding unstemmed terms: "Haus" finds only b.
		if _, err := old.Upsert(ctx, de[1:]); err != nil {
			t.Fatal(err)
		}
		if got := search(t, old, "Haus"); !reflect.DeepEqual(got, []string{"b"}) {
			t.Fatalf("Haus found %v in the old index, want [b]", got)
		}
		again, err := Open(dir, 0, nil, nil)
		if err != nil || again.an.Version != 0 || again.Stats().Config.BM25.AnalyzerVersion != 0 {
			t.Fatalf("reopened after upsert: %v", err)
		}
	})

	t.Run("new index", func(t *testing.T) {
		dir := t.TempDir()
		x, err := Create(dir, Config{BM25: BM25Config{Language: "German", AnalyzerVersion: 0}}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x.Upsert(ctx, de); err != nil {
			t.Fatal(err)
		}
		x, err = Open(dir, 0, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c := x.Stats().Config.BM25; c.AnalyzerVersion != AnalyzerVersion || c.Language != "de" || x.an.Version != AnalyzerVersion {
			t.Fatalf("config %+v, analyzer version %d", c, x.an.Version)
		}
		if got := search(t, x, "Häuser"); len(got) != 2 {
			t.Fatalf("Häuser found %v, want both (stemmed to haus)", got)
		}
	})

	t.Run("newer version", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := Create(dir, Config{}, nil, nil); err != nil {
			t.Fatal(err)
		}
		rewriteSnapshot(t, dir, 0, func(st *state) { st.Config.BM25.AnalyzerVersion = AnalyzerVersion + 1 })
		_, err := Open(dir, 0, nil, nil)
		if !errors.Is(err, ErrIndex) || !strings.Contains(err.Error(), "newer") || !strings.Contains(err.Error(), dir) {
			t.Fatalf("error %v", err)
		}
	})
}
