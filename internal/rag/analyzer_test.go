package rag

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCanonicalLanguage(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", "en", true}, {"en", "en", true}, {"English", "en", true}, {"de", "de", true}, {"german", "de", true},
		{" FR ", "fr", true}, {"spanish", "es", true}, {"italian", "it", true}, {"portuguese", "pt", true},
		{"dutch", "nl", true}, {"swedish", "sv", true}, {"danish", "da", true}, {"norwegian", "no", true},
		{"nb", "no", true}, {"finnish", "fi", true}, {"russian", "ru", true}, {"none", "none", true},
		{"klingon", "", false}, {"tr", "", false}, {"de-DE", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := CanonicalLanguage(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("CanonicalLanguage(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
	if n := len(Languages()); n != len(languages) {
		t.Errorf("Languages() has %d entries, want %d", n, len(languages))
	}
}

// TestAnalyzerLanguages checks stopwords, elision, accents and stemming end
// to end for each language.
func TestAnalyzerLanguages(t *testing.T) {
	for _, tc := range []struct {
		lang, text string
		want       []string
	}{
		{"de", "Die Häuser und die Möglichkeiten der Straße", []string{"haus", "moglich", "strass"}},
		{"german", "Rückerstattungen werden bearbeitet", []string{"ruckerstatt", "bearbeitet"}},
		{"fr", "L'homme et les politiques d'entreprise", []string{"homm", "polit", "entrepris"}},
		{"fr", "Jusqu'à l'hôtel", []string{"hôtel"}},
		{"es", "Las políticas de reembolso", []string{"polit", "reembols"}},
		{"it", "Dell'acqua e delle politiche aziendali", []string{"acqua", "polit", "aziendal"}},
		{"pt", "As políticas de reembolso são claras", []string{"polít", "reembols", "clar"}},
		{"nl", "De mogelijkheden van de kinderen", []string{"mogelijk", "kinder"}},
		{"sv", "Och företagets policyer", []string{"företaget", "policy"}},
		{"da", "Og virksomhedens politikker", []string{"virksom", "politik"}},
		{"no", "Og selskapets retningslinjer", []string{"selskap", "retningslinj"}},
		{"fi", "Ja yrityksen käytännöt", []string{"yrityks", "käytänö"}},
		{"ru", "И политика возврата денег", []string{"политик", "возврат", "денег"}},
		// Decomposed accents (e + U+0301) analyse like precomposed ones.
		{"fr", "ho\u0302tel e\u0301te\u0301", []string{"hôtel"}},
		{"none", "Die Häuser", []string{"die", "häuser"}},
	} {
		t.Run(tc.lang+"/"+tc.text, func(t *testing.T) {
			got := NewAnalyzer(tc.lang).Tokens(tc.text)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Tokens(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

// TestStopListsUnstemmed: every stop list entry is a lowercase single word,
// so the analyzer can match it before stemming.
func TestStopListsUnstemmed(t *testing.T) {
	for code, l := range languages {
		for _, w := range strings.Fields(l.stop) {
			if w != strings.ToLower(w) || !utf8.ValidString(w) {
				t.Errorf("%s: stopword %q is not lowercase UTF-8", code, w)
			}
		}
	}
}

func TestCreateRejectsUnknownLanguage(t *testing.T) {
	_, err := Create(t.TempDir(), Config{BM25: BM25Config{Language: "klingon"}}, nil, nil)
	var qe *QueryError
	if !errors.As(err, &qe) || qe.Field != "bm25.language" || !strings.Contains(qe.Message, "de (german)") {
		t.Fatalf("Create with language klingon: %v", err)
	}
	x, err := Create(t.TempDir(), Config{BM25: BM25Config{Language: "German"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := x.st.Config.BM25.Language; got != "de" {
		t.Errorf("stored language %q, want de", got)
	}
	ctx := context.Background()
	if _, err := x.Upsert(ctx, []Doc{{ID: "d1", Text: "Die Rückerstattungen der Kunden werden geprüft."},
		{ID: "d2", Text: "Der Versand dauert drei Tage."}}); err != nil {
		t.Fatal(err)
	}
	hits, err := x.Search(ctx, Query{Text: "Rückerstattung Kunde", K: 2, Mode: "bm25"})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].Citation.DocumentID != "d1" {
		t.Fatalf("German stemmed search: %+v", hits)
	}
}

// TestEveryLanguageStemmed keeps the language table, the stemmers under test
// and the golden table in step.
func TestEveryLanguageStemmed(t *testing.T) {
	golden := goldenWords(t)
	for code, l := range languages {
		if code == "none" {
			continue
		}
		if l.stem == nil || stemmers[code] == nil {
			t.Errorf("%s: no stemmer, or not under test", code)
		}
		if code != "en" && len(golden[code]) < 40 {
			t.Errorf("%s: %d golden words, want at least 40", code, len(golden[code]))
		}
		if l.stop == "" {
			t.Errorf("%s: no stop list", code)
		}
	}
}

// TestAnalyzersConcurrent: analyzers and stemmers share only read-only
// tables, so concurrent use is safe (run with -race).
func TestAnalyzersConcurrent(t *testing.T) {
	golden := goldenWords(t)
	done := make(chan bool)
	for code := range languages {
		go func() {
			defer func() { done <- true }()
			a := NewAnalyzer(code)
			for range 3 {
				a.Tokens(strings.Join(golden[code], " "))
			}
		}()
	}
	for range languages {
		<-done
	}
}

// TestBM25DocListsLanguages keeps the API's description of bm25 (the doc
// tag in the OpenAPI document) in step with the analyzer table and the
// defaults.
func TestBM25DocListsLanguages(t *testing.T) {
	f, _ := reflect.TypeOf(IndexSpec{}).FieldByName("BM25")
	doc := f.Tag.Get("doc")
	for code := range languages {
		if !strings.Contains(" "+doc+" ", " "+code+" ") && !strings.Contains(doc, " "+code+",") {
			t.Errorf("bm25 doc tag does not list %q: %s", code, doc)
		}
	}
	def := Config{}.withDefaults().BM25
	for _, want := range []string{fmt.Sprintf("default %g", def.K1), fmt.Sprintf("default %g", def.B), "Default " + def.Language} {
		if !strings.Contains(doc, want) {
			t.Errorf("bm25 doc tag lacks %q: %s", want, doc)
		}
	}
}
