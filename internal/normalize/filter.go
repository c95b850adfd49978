package normalize

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Reason says why a document was dropped by [Filters.Check].
type Reason string

// The reasons [Filters.Check] reports, in the order the checks run.
const (
	ReasonTooShort        Reason = "too_short"
	ReasonTooLong         Reason = "too_long"
	ReasonSymbolRatio     Reason = "symbol_ratio"
	ReasonRepeatedLines   Reason = "repeated_lines"
	ReasonRepeatedNgrams  Reason = "repeated_ngrams"
	ReasonLanguage        Reason = "language"
	ReasonLowLanguageConf Reason = "language_confidence"
)

// Filters are the quality filters of the processing API's "filters" body.
// A zero field disables its check, so the zero value keeps everything;
// [DefaultFilters] returns the documented defaults.
type Filters struct {
	// MinChars and MaxChars bound the length of the text in runes.
	MinChars int `json:"min_chars,omitempty"`
	MaxChars int `json:"max_chars,omitempty"`
	// Languages is an allow-list of ISO 639-1 codes; empty allows all.
	Languages []string `json:"languages,omitempty"`
	// MinLanguageConfidence drops documents whose detected language has a
	// lower confidence, when Languages is set.
	MinLanguageConfidence float64 `json:"min_language_confidence,omitempty"`
	// MaxSymbolRatio is the largest allowed share of non-space runes that
	// are neither letters, digits nor common punctuation.
	MaxSymbolRatio float64 `json:"max_symbol_ratio,omitempty"`
	// MaxRepeatedLineRatio is the largest allowed share of non-blank lines
	// that repeat an earlier line of the same document.
	MaxRepeatedLineRatio float64 `json:"max_repeated_line_ratio,omitempty"`
	// MaxRepeatedNgramRatio is the largest allowed share of words covered
	// by word n-grams (of NgramSize words) that occur more than once.
	MaxRepeatedNgramRatio float64 `json:"max_repeated_ngram_ratio,omitempty"`
	// NgramSize is the n of MaxRepeatedNgramRatio; 0 means 5.
	NgramSize int `json:"ngram_size,omitempty"`
}

// DefaultFilters returns the filters the processing job uses when the
// request names none: 50 to 1,000,000 runes, at most 30% symbols, 30%
// repeated lines and 30% of words in repeated 5-grams, any language.
func DefaultFilters() Filters {
	return Filters{
		MinChars:              50,
		MaxChars:              1_000_000,
		MaxSymbolRatio:        0.30,
		MaxRepeatedLineRatio:  0.30,
		MaxRepeatedNgramRatio: 0.30,
		NgramSize:             5,
	}
}

// Validate reports a filter configuration that cannot be applied.
func (f Filters) Validate() error {
	switch {
	case f.MinChars < 0 || f.MaxChars < 0:
		return fmt.Errorf("%w: min_chars and max_chars must not be negative", ErrInvalidFilters)
	case f.MaxChars > 0 && f.MinChars > f.MaxChars:
		return fmt.Errorf("%w: min_chars %d exceeds max_chars %d", ErrInvalidFilters, f.MinChars, f.MaxChars)
	case f.MaxSymbolRatio < 0 || f.MaxSymbolRatio > 1,
		f.MaxRepeatedLineRatio < 0 || f.MaxRepeatedLineRatio > 1,
		f.MaxRepeatedNgramRatio < 0 || f.MaxRepeatedNgramRatio > 1,
		f.MinLanguageConfidence < 0 || f.MinLanguageConfidence > 1:
		return fmt.Errorf("%w: ratios must be within [0, 1]", ErrInvalidFilters)
	case f.NgramSize < 0:
		return fmt.Errorf("%w: ngram_size must not be negative", ErrInvalidFilters)
	}
	return nil
}

// Verdict is the outcome of [Filters.Check].
type Verdict struct {
	// Keep is false when a filter dropped the document.
	Keep bool `json:"keep"`
	// Reason names the first filter that failed; empty when kept.
	Reason Reason `json:"reason,omitempty"`
	// Detail is a human-readable explanation with the measured value.
	Detail string `json:"detail,omitempty"`
	// Language is the detected language, when a detector was given.
	Language Language `json:"language"`
}

func drop(r Reason, format string, args ...any) Verdict {
	return Verdict{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// Check applies the filters to text, cheapest first, and returns the first
// failure. det may be nil when no language filter is configured; when it is
// given, the detected language is returned in the verdict either way.
func (f Filters) Check(text string, det *LanguageDetector) Verdict {
	v := f.check(text, det)
	if det != nil && v.Language.Code == "" && v.Language.Script == "" {
		v.Language = det.Detect(text)
	}
	return v
}

func (f Filters) check(text string, det *LanguageDetector) Verdict {
	n := utf8.RuneCountInString(text)
	if f.MinChars > 0 && n < f.MinChars {
		return drop(ReasonTooShort, "%d runes < min_chars %d", n, f.MinChars)
	}
	if f.MaxChars > 0 && n > f.MaxChars {
		return drop(ReasonTooLong, "%d runes > max_chars %d", n, f.MaxChars)
	}
	if f.MaxSymbolRatio > 0 {
		if r := SymbolRatio(text); r > f.MaxSymbolRatio {
			return drop(ReasonSymbolRatio, "symbol ratio %.3f > %.3f", r, f.MaxSymbolRatio)
		}
	}
	if f.MaxRepeatedLineRatio > 0 {
		if r := RepeatedLineRatio(text); r > f.MaxRepeatedLineRatio {
			return drop(ReasonRepeatedLines, "repeated line ratio %.3f > %.3f", r, f.MaxRepeatedLineRatio)
		}
	}
	if f.MaxRepeatedNgramRatio > 0 {
		size := f.NgramSize
		if size == 0 {
			size = 5
		}
		if r := RepeatedNgramRatio(text, size); r > f.MaxRepeatedNgramRatio {
			return drop(ReasonRepeatedNgrams, "repeated %d-gram ratio %.3f > %.3f", size, r, f.MaxRepeatedNgramRatio)
		}
	}
	if len(f.Languages) > 0 && det != nil {
		lang := det.Detect(text)
		if !slices.Contains(f.Languages, lang.Code) {
			v := drop(ReasonLanguage, "language %q not in %v", lang.Code, f.Languages)
			v.Language = lang
			return v
		}
		if lang.Confidence < f.MinLanguageConfidence {
			v := drop(ReasonLowLanguageConf, "language %s confidence %.3f < %.3f", lang.Code, lang.Confidence, f.MinLanguageConfidence)
			v.Language = lang
			return v
		}
		return Verdict{Keep: true, Language: lang}
	}
	return Verdict{Keep: true}
}

// SymbolRatio returns the share of non-space runes in text that are neither
// letters, digits, marks nor common punctuation. Text without non-space
// runes has ratio 0.
func SymbolRatio(text string) float64 {
	total, sym := 0, 0
	for _, r := range text {
		if unicode.IsSpace(r) {
			continue
		}
		total++
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
			continue
		}
		if strings.ContainsRune(".,;:!?'\"()-–—’‘“”«»¿¡/%&", r) {
			continue
		}
		sym++
	}
	if total == 0 {
		return 0
	}
	return float64(sym) / float64(total)
}

// RepeatedLineRatio returns the share of non-blank lines of text that are
// equal (after trimming) to an earlier line.
func RepeatedLineRatio(text string) float64 {
	seen := make(map[string]struct{})
	total, dup := 0, 0
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		total++
		if _, ok := seen[line]; ok {
			dup++
			continue
		}
		seen[line] = struct{}{}
	}
	if total == 0 {
		return 0
	}
	return float64(dup) / float64(total)
}

// RepeatedNgramRatio returns the share of words in text covered by a word
// n-gram that occurs more than once. Texts shorter than n words have ratio 0.
func RepeatedNgramRatio(text string, n int) float64 {
	words := strings.Fields(strings.ToLower(text))
	if n <= 0 || len(words) < n {
		return 0
	}
	counts := make(map[string]int, len(words))
	keys := make([]string, len(words)-n+1)
	for i := range keys {
		keys[i] = strings.Join(words[i:i+n], " ")
		counts[keys[i]]++
	}
	covered := make([]bool, len(words))
	for i, k := range keys {
		if counts[k] > 1 {
			for j := i; j < i+n; j++ {
				covered[j] = true
			}
		}
	}
	c := 0
	for _, x := range covered {
		if x {
			c++
		}
	}
	return float64(c) / float64(len(words))
}
