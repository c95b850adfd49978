package normalize

import (
	"embed"
	"fmt"
	"math"
	"path"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

//go:embed langdata/*.txt
var langData embed.FS

// Language is the result of language identification.
type Language struct {
	// Code is the ISO 639-1 code ("en", "ja", …), or "" when the text has
	// too few letters or uses a script without a model.
	Code string `json:"code"`
	// Confidence is in [0, 1]: the model's posterior for Code on Latin
	// text, the share of letters in the deciding script otherwise.
	Confidence float64 `json:"confidence"`
	// Script is the dominant script of the text's letters ("Latin", "Han", …).
	Script string `json:"script"`
}

// LanguageDetector identifies the language of a text. Non-Latin scripts
// are decided by script alone (Han → zh, kana → ja, Hangul → ko, Arabic →
// ar, Cyrillic → ru or uk, Devanagari → hi, Greek → el, Hebrew → he,
// Thai → th); Latin text is scored by a naive Bayes model over character
// trigrams and whole words, trained on the text embedded in langdata/.
//
// A LanguageDetector is immutable after [NewLanguageDetector] and safe for
// concurrent use.
type LanguageDetector struct {
	codes      []string
	trigrams   map[uint64][]float32 // trigram → log P(trigram | language) per language
	triUnseen  []float32
	words      map[string][]float32 // word → log P(word | language) per language
	wordUnseen []float32
	maxRunes   int
}

// latinCodes lists the Latin-script languages with an embedded profile.
var latinCodes = []string{"de", "en", "es", "fr", "it", "nl", "pl", "pt", "sv"}

// NewLanguageDetector builds the detector from the embedded profiles.
func NewLanguageDetector() (*LanguageDetector, error) {
	d := &LanguageDetector{
		codes:    latinCodes,
		trigrams: make(map[uint64][]float32),
		words:    make(map[string][]float32),
		maxRunes: 1500,
	}
	n := len(d.codes)
	triCounts := make([]map[uint64]int, n)
	wordCounts := make([]map[string]int, n)
	for i, code := range d.codes {
		b, err := langData.ReadFile(path.Join("langdata", code+".txt"))
		if err != nil {
			return nil, fmt.Errorf("normalize: load language profile %s: %w", code, err)
		}
		triCounts[i] = make(map[uint64]int)
		wordCounts[i] = make(map[string]int)
		forEachWord(string(b), func(w []byte) {
			wordCounts[i][string(w)]++
			forEachTrigram(w, func(k uint64) { triCounts[i][k]++ })
		})
	}
	d.triUnseen = fillLogProbs(d.trigrams, triCounts, 0.5)
	d.wordUnseen = fillLogProbs(d.words, wordCounts, 0.1)
	return d, nil
}

// fillLogProbs turns per-language counts into additively smoothed log
// probabilities stored per key, and returns the log probability of an
// unseen key per language.
func fillLogProbs[K comparable](dst map[K][]float32, counts []map[K]int, alpha float64) []float32 {
	vocab := make(map[K]struct{})
	for _, c := range counts {
		for k := range c {
			vocab[k] = struct{}{}
		}
	}
	v := float64(len(vocab)) + 1
	unseen := make([]float32, len(counts))
	denom := make([]float64, len(counts))
	for i, c := range counts {
		total := 0
		for _, x := range c {
			total += x
		}
		denom[i] = float64(total) + alpha*v
		unseen[i] = float32(math.Log(alpha / denom[i]))
	}
	for k := range vocab {
		lp := make([]float32, len(counts))
		for i, c := range counts {
			lp[i] = float32(math.Log((float64(c[k]) + alpha) / denom[i]))
		}
		dst[k] = lp
	}
	return unseen
}

// forEachWord calls fn with each maximal run of letters in s, lower-cased.
// The slice is reused between calls: fn must not keep it.
func forEachWord(s string, fn func([]byte)) {
	buf := make([]byte, 0, 64)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z':
				buf = append(buf, c)
				continue
			case 'A' <= c && c <= 'Z':
				buf = append(buf, c+'a'-'A')
				continue
			}
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			i += size
			if unicode.IsLetter(r) {
				buf = utf8.AppendRune(buf, unicode.ToLower(r))
				continue
			}
		}
		if len(buf) > 0 {
			fn(buf)
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		fn(buf)
	}
}

// forEachTrigram calls fn with the packed key of each character trigram of
// " word ", so word starts and ends are features of their own.
func forEachTrigram(w []byte, fn func(uint64)) {
	var a, b rune = ' ', 0
	first := true
	step := func(r rune) {
		if first {
			b = r
			first = false
			return
		}
		fn(uint64(a)<<42 | uint64(b)<<21 | uint64(r))
		a, b = b, r
	}
	for i := 0; i < len(w); {
		r, size := rune(w[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(w[i:])
		}
		i += size
		step(r)
	}
	step(' ')
}

// Detect returns the language of text. Text with fewer than three letters
// gets Code "".
func (d *LanguageDetector) Detect(text string) Language {
	if len(text) > d.maxRunes*4 {
		cut := d.maxRunes * 4
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	var counts [numScripts]int
	letters := 0
	for _, r := range text {
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		counts[scriptOf(r)]++
	}
	if letters < 3 {
		return Language{}
	}
	best := scriptLatin
	for s := range counts {
		if counts[s] > counts[best] {
			best = script(s)
		}
	}
	share := float64(counts[best]) / float64(letters)
	switch best {
	case scriptLatin:
		return d.detectLatin(text)
	case scriptHan, scriptKana:
		// Japanese mixes kanji with kana; Chinese has no kana at all.
		kana := counts[scriptKana]
		cjk := counts[scriptHan] + kana
		if kana*10 >= cjk {
			return Language{Code: "ja", Confidence: float64(cjk) / float64(letters), Script: scriptNames[best]}
		}
		return Language{Code: "zh", Confidence: share, Script: scriptNames[best]}
	case scriptCyrillic:
		code := "ru"
		if strings.ContainsAny(strings.ToLower(text), "іїєґ") {
			code = "uk"
		}
		return Language{Code: code, Confidence: share, Script: scriptNames[best]}
	case scriptOther:
		return Language{Script: scriptNames[best]}
	}
	return Language{Code: scriptLanguage[best], Confidence: share, Script: scriptNames[best]}
}

func (d *LanguageDetector) detectLatin(text string) Language {
	n := len(d.codes)
	scores := make([]float64, n)
	features := 0
	forEachWord(text, func(w []byte) {
		if !isLatinWord(w) {
			return
		}
		features++
		lp, ok := d.words[string(w)]
		if !ok {
			lp = d.wordUnseen
		}
		for i := range scores {
			scores[i] += float64(lp[i])
		}
		forEachTrigram(w, func(k uint64) {
			features++
			lp, ok := d.trigrams[k]
			if !ok {
				lp = d.triUnseen
			}
			for i := range scores {
				scores[i] += float64(lp[i])
			}
		})
	})
	if features == 0 {
		return Language{Script: scriptNames[scriptLatin]}
	}
	bi := 0
	for i := range scores {
		if scores[i] > scores[bi] {
			bi = i
		}
	}
	// The naive Bayes posterior is overconfident because features are far
	// from independent; tempering by the square root of the feature count
	// keeps short, ambiguous texts from reporting certainty.
	temp := 2 * math.Sqrt(float64(features))
	if temp < 1 {
		temp = 1
	}
	sum := 0.0
	for i := range scores {
		sum += math.Exp((scores[i] - scores[bi]) / temp)
	}
	return Language{Code: d.codes[bi], Confidence: 1 / sum, Script: scriptNames[scriptLatin]}
}

func isLatinWord(w []byte) bool {
	for _, r := range string(w) {
		if r < 0x80 {
			continue
		}
		if !unicode.Is(unicode.Latin, r) {
			return false
		}
	}
	return true
}

// Codes returns the ISO 639-1 codes the detector can return, sorted.
func (d *LanguageDetector) Codes() []string {
	out := append([]string(nil), d.codes...)
	for _, c := range scriptLanguage {
		if c != "" {
			out = append(out, c)
		}
	}
	out = append(out, "ja", "zh", "ru", "uk")
	sort.Strings(out)
	return out
}

type script int

const (
	scriptLatin script = iota
	scriptHan
	scriptKana
	scriptHangul
	scriptArabic
	scriptCyrillic
	scriptDevanagari
	scriptGreek
	scriptHebrew
	scriptThai
	scriptOther
	numScripts
)

var scriptNames = [numScripts]string{"Latin", "Han", "Kana", "Hangul", "Arabic", "Cyrillic", "Devanagari", "Greek", "Hebrew", "Thai", "Other"}

var scriptLanguage = [numScripts]string{
	scriptHangul: "ko", scriptArabic: "ar", scriptDevanagari: "hi",
	scriptGreek: "el", scriptHebrew: "he", scriptThai: "th",
}

var scriptTables = [...]struct {
	s script
	t *unicode.RangeTable
}{
	{scriptLatin, unicode.Latin},
	{scriptHan, unicode.Han},
	{scriptKana, unicode.Hiragana},
	{scriptKana, unicode.Katakana},
	{scriptHangul, unicode.Hangul},
	{scriptArabic, unicode.Arabic},
	{scriptCyrillic, unicode.Cyrillic},
	{scriptDevanagari, unicode.Devanagari},
	{scriptGreek, unicode.Greek},
	{scriptHebrew, unicode.Hebrew},
	{scriptThai, unicode.Thai},
}

func scriptOf(r rune) script {
	if r < 0x80 {
		return scriptLatin
	}
	for _, st := range scriptTables {
		if unicode.Is(st.t, r) {
			return st.s
		}
	}
	return scriptOther
}
