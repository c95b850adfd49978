package rag

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

var stemVocab = flag.String("stemvocab", "", "directory of <lang>.tsv word/stem lists from scripts/stemref/stemref.py vocab")

// stemmers maps each language with a Snowball stemmer to it.
var stemmers = map[string]func(string) string{
	"en": StemEnglish, "de": StemGerman, "nl": StemDutch, "fr": StemFrench, "es": StemSpanish, "it": StemItalian, "pt": StemPortuguese, "sv": StemSwedish, "da": StemDanish, "no": StemNorwegian, "fi": StemFinnish, "ru": StemRussian,
}

// TestStemGolden checks every stemmer against the Snowball reference
// outputs for hand-picked words (scripts/stemref/words/<lang>.txt).
func TestStemGolden(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "stem_golden.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) != 3 {
			t.Fatalf("bad golden line %q", line)
		}
		stem, ok := stemmers[p[0]]
		if !ok {
			continue
		}
		counts[p[0]]++
		if got := stem(p[1]); got != p[2] {
			t.Errorf("%s: stem(%q) = %q, want %q", p[0], p[1], got, p[2])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for lang := range stemmers {
		if lang != "en" && counts[lang] < 40 {
			t.Errorf("%s: %d golden words, want at least 40", lang, counts[lang])
		}
	}
}

// TestStemVocab measures agreement with the reference over whole word lists
// when -stemvocab names a directory (see scripts/stemref/stemref.py).
func TestStemVocab(t *testing.T) {
	if *stemVocab == "" {
		t.Skip("no -stemvocab directory")
	}
	for lang, stem := range stemmers {
		f, err := os.Open(filepath.Join(*stemVocab, lang+".tsv"))
		if err != nil {
			continue
		}
		n, bad := 0, 0
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			p := strings.Split(sc.Text(), "\t")
			if len(p) != 2 {
				continue
			}
			n++
			if got := stem(p[0]); got != p[1] {
				bad++
				if bad <= 15 {
					t.Errorf("%s: stem(%q) = %q, want %q", lang, p[0], got, p[1])
				}
			}
		}
		f.Close()
		t.Logf("%s: %d/%d agree (%.4f%%)", lang, n-bad, n, 100*float64(n-bad)/float64(max(n, 1)))
	}
}

// goldenWords returns the golden table's words by language.
func goldenWords(tb testing.TB) map[string][]string {
	data, err := os.ReadFile(filepath.Join("testdata", "stem_golden.tsv"))
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if p := strings.Split(line, "\t"); len(p) == 3 && !strings.HasPrefix(line, "#") {
			out[p[0]] = append(out[p[0]], p[1])
		}
	}
	return out
}

// FuzzStem: no stemmer or analyzer panics on arbitrary input, stemming is
// deterministic, valid UTF-8 stays valid, and stemming a stem is safe.
func FuzzStem(f *testing.F) {
	for _, words := range goldenWords(f) {
		for _, w := range words[:min(5, len(words))] {
			f.Add(w)
		}
	}
	for _, s := range []string{"", "'", "ß", "ëï", "a~", "qu", "yy", "ёё", "ää", "\xff\xfe", "l'été", "İ", "u\u0308ber"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for lang, stem := range stemmers {
			got := stem(s)
			if again := stem(s); again != got {
				t.Fatalf("%s: stem(%q) gave %q then %q", lang, s, got, again)
			}
			if utf8.ValidString(s) && !utf8.ValidString(got) {
				t.Fatalf("%s: stem(%q) = %q is not valid UTF-8", lang, s, got)
			}
			_ = stem(got)
		}
		for code := range languages {
			for _, tok := range NewAnalyzer(code).Tokens(s) {
				if tok == "" {
					t.Fatalf("%s: empty token from %q", code, s)
				}
			}
		}
	})
}

// BenchmarkStem reports words per second for each language over its golden
// words (mixed lengths and suffix classes).
func BenchmarkStem(b *testing.B) {
	words := goldenWords(b)
	langs := make([]string, 0, len(stemmers))
	for lang := range stemmers {
		langs = append(langs, lang)
	}
	sort.Strings(langs)
	for _, lang := range langs {
		ws := words[lang]
		if len(ws) == 0 {
			ws = strings.Fields("running policies refunds deployment credentials organization connection effective hopeful goodness")
		}
		stem := stemmers[lang]
		b.Run(lang, func(b *testing.B) {
			n := 0
			for b.Loop() {
				for _, w := range ws {
					_ = stem(w)
				}
				n += len(ws)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "words/s")
		})
	}
}
