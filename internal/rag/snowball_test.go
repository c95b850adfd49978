package rag

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
