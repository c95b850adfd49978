package normalize

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"nfkc ligature and fullwidth", "ﬁle ＡＢＣ１２３", "file ABC123"},
		{"crlf and cr", "a\r\nb\rc", "a\nb\nc"},
		{"collapse spaces and tabs", "a \t  b\u00a0\u2003c", "a b c"},
		{"trim lines", "  a  \n   b   ", "a\nb"},
		{"blank line runs", "a\n\n\n\n b", "a\n\nb"},
		{"control and format chars", "a\x00b\x1bc\u200bd\ufeffe\u00adf", "abcdef"},
		{"keeps zwj", "👩\u200d💻", "👩\u200d💻"},
		{"invalid utf8", "a\xffb", "a\ufffdb"},
		{"composed accents", "e\u0301", "é"},
		{"leading blank lines", "\n\n  \nx", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Text(tt.in)
			if got != tt.want {
				t.Fatalf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := Text(got); again != got {
				t.Fatalf("not idempotent: %q → %q", got, again)
			}
		})
	}
}

func TestCollapse(t *testing.T) {
	if got := Collapse("a\n\nb  c\r\nd"); got != "a b c d" {
		t.Fatalf("Collapse = %q", got)
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"", "a\r\n\r\nb", "ﬁ\u200b\x00", "\xff\xfe", "  x  \t y \n\n\n z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Text(s)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		if again := Text(got); again != got {
			t.Fatalf("not idempotent on %q: %q → %q", s, got, again)
		}
		if strings.Contains(got, "\n\n\n") || strings.Contains(got, "  ") || strings.Contains(got, "\r") {
			t.Fatalf("whitespace not normalised: %q", got)
		}
	})
}

func TestBoilerplate(t *testing.T) {
	b := NewBoilerplate(3)
	docs := []string{
		"ACME Corp intranet\nPolicy one text.\n\n© 2026 ACME Corp. All rights reserved.",
		"ACME Corp intranet\nPolicy two text.\nPolicy two text.\n© 2026 ACME Corp. All rights reserved.",
		"ACME Corp intranet\nPolicy three text.\n\n© 2026 ACME Corp. All rights reserved.",
		"Only a footer differs\nPolicy four text.",
	}
	for _, d := range docs {
		b.Observe("wiki", d)
	}
	b.Observe("other", docs[0])

	tests := []struct {
		name, source, in, want string
		removed                int
	}{
		{"header and footer removed", "wiki", docs[0], "Policy one text.", 2},
		{"line repeated within one doc kept", "wiki", docs[1], "Policy two text.\nPolicy two text.", 2},
		{"nothing to remove", "wiki", docs[3], docs[3], 0},
		{"other source below threshold", "other", docs[0], docs[0], 0},
		{"unknown source", "nope", docs[0], docs[0], 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n := b.Strip(tt.source, tt.in)
			if got != tt.want || n != tt.removed {
				t.Fatalf("Strip = %q, %d; want %q, %d", got, n, tt.want, tt.removed)
			}
		})
	}
	if !b.IsBoilerplate("wiki", "  ACME Corp intranet ") {
		t.Fatal("header not reported as boilerplate")
	}
}

func TestFilters(t *testing.T) {
	det, err := NewLanguageDetector()
	if err != nil {
		t.Fatal(err)
	}
	english := "The quarterly report explains how the support team handled customer requests during the spring, and which changes we plan for next year."
	german := "Der Bericht erklärt, wie das Team im Frühjahr mit den Anfragen der Kunden umgegangen ist und was wir im nächsten Jahr ändern wollen."
	tests := []struct {
		name   string
		f      Filters
		text   string
		reason Reason
	}{
		{"zero value keeps", Filters{}, "x", ""},
		{"too short", DefaultFilters(), "short", ReasonTooShort},
		{"too long", Filters{MaxChars: 10}, english, ReasonTooLong},
		{"symbols", DefaultFilters(), "#### $$$$ @@@@ ^^^^ |||| ~~~~ <<<< >>>> ==== ++++ **** #### $$$$ @@@@ word", ReasonSymbolRatio},
		{"repeated lines", DefaultFilters(), strings.Repeat("Click here to subscribe to our newsletter today\n", 5) + english, ReasonRepeatedLines},
		{"repeated ngrams", DefaultFilters(), strings.Repeat("buy cheap watches online now and ", 8), ReasonRepeatedNgrams},
		{"good english", DefaultFilters(), english, ""},
		{"language allowed", Filters{Languages: []string{"en", "de"}}, german, ""},
		{"language not allowed", Filters{Languages: []string{"en"}}, german, ReasonLanguage},
		{"language confidence", Filters{Languages: []string{"en"}, MinLanguageConfidence: 0.95}, "ok thanks", ReasonLowLanguageConf},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.f.Validate(); err != nil {
				t.Fatal(err)
			}
			v := tt.f.Check(tt.text, det)
			if v.Reason != tt.reason || v.Keep != (tt.reason == "") {
				t.Fatalf("Check = %+v, want reason %q", v, tt.reason)
			}
			if v.Keep != (v.Detail == "") {
				t.Fatalf("detail %q inconsistent with keep=%v", v.Detail, v.Keep)
			}
		})
	}
}

func TestFiltersValidate(t *testing.T) {
	for _, f := range []Filters{{MinChars: -1}, {MinChars: 10, MaxChars: 5}, {MaxSymbolRatio: 2}, {NgramSize: -1}} {
		if err := f.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want error", f)
		}
	}
}

func TestRatios(t *testing.T) {
	if r := RepeatedLineRatio("a\nb\na\n\na"); r != 0.5 {
		t.Errorf("RepeatedLineRatio = %v, want 0.5", r)
	}
	if r := RepeatedNgramRatio("a b c a b c", 3); r != 1 {
		t.Errorf("RepeatedNgramRatio = %v, want 1", r)
	}
	if r := RepeatedNgramRatio("a b c d e f", 3); r != 0 {
		t.Errorf("RepeatedNgramRatio = %v, want 0", r)
	}
	if r := SymbolRatio("ab##"); r != 0.5 {
		t.Errorf("SymbolRatio = %v, want 0.5", r)
	}
}

type heldOut struct{ code, text string }

func loadHeldOut(t testing.TB) []heldOut {
	f, err := os.Open("testdata/lang_heldout.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []heldOut
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		code, text, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			continue
		}
		out = append(out, heldOut{code, text})
	}
	return out
}

// TestLanguageAccuracy measures accuracy on held-out sentences of at least
// eight words that share no sentence with the training profiles.
func TestLanguageAccuracy(t *testing.T) {
	det, err := NewLanguageDetector()
	if err != nil {
		t.Fatal(err)
	}
	perLang := map[string][2]int{}
	correct, total := 0, 0
	for _, s := range loadHeldOut(t) {
		got := det.Detect(s.text)
		c := perLang[s.code]
		c[1]++
		total++
		if got.Code == s.code {
			c[0]++
			correct++
		} else {
			t.Logf("miss: want %s got %s (%.2f): %s", s.code, got.Code, got.Confidence, s.text)
		}
		perLang[s.code] = c
	}
	codes := make([]string, 0, len(perLang))
	for c := range perLang {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	var b strings.Builder
	for _, c := range codes {
		fmt.Fprintf(&b, " %s %d/%d", c, perLang[c][0], perLang[c][1])
	}
	acc := float64(correct) / float64(total)
	t.Logf("language accuracy %.3f (%d/%d):%s", acc, correct, total, b.String())
	if total < 100 {
		t.Fatalf("held-out set has %d sentences, want ≥ 100", total)
	}
	if acc < 0.95 {
		t.Fatalf("accuracy %.3f < 0.95", acc)
	}
}

func TestDetectShortAndEmpty(t *testing.T) {
	det, err := NewLanguageDetector()
	if err != nil {
		t.Fatal(err)
	}
	if got := det.Detect("12 34 !!"); got.Code != "" {
		t.Fatalf("Detect(digits) = %+v, want no language", got)
	}
	got := det.Detect("The cat sat on the mat and looked out of the window at the rain.")
	if got.Code != "en" || got.Confidence < 0.8 {
		t.Fatalf("Detect(english) = %+v", got)
	}
	long := strings.Repeat("Der Hund läuft über die Straße und bellt laut. ", 2000)
	if got := det.Detect(long); got.Code != "de" {
		t.Fatalf("Detect(long german) = %+v", got)
	}
}

func BenchmarkNormalizeDetect(b *testing.B) {
	det, err := NewLanguageDetector()
	if err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for _, s := range loadHeldOut(b) {
		sb.WriteString(s.text)
		sb.WriteString("\r\n  ")
	}
	doc := sb.String()
	b.SetBytes(int64(len(doc)))
	c0 := cpuTime()
	for b.Loop() {
		n := Text(doc)
		_ = det.Detect(n)
	}
	if cpu := (cpuTime() - c0).Seconds(); cpu > 0 {
		b.ReportMetric(float64(len(doc))*float64(b.N)/cpu/1e6, "cpu-MB/s")
	}
}
