package rag

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Analyzer turns text into index terms: Unicode word segmentation (each
// Han/kana character is its own token, as Lucene's StandardTokenizer does),
// NFC composition, lowercasing, possessive and elision removal, stopwords
// and Snowball stemming for the analyzer's language.
type Analyzer struct {
	Language  string
	Version   int // AnalyzerVersion, or an older one (see analyzerFor)
	stopwords map[string]bool
	stem      func(string) string
	elide     map[string]bool // French and Italian articles before an apostrophe
}

// AnalyzerVersion numbers the analyzers' behaviour; an index stores the
// version it was built with (BM25Config.AnalyzerVersion) and keeps being
// searched and updated with that analyzer, since its postings hold that
// analyzer's terms.
//
//   - 0 (stored as absent, by builds before it was recorded): Snowball
//     stemming and Lucene's stop set for English only; stop words alone for
//     de fr es it nl pt; lowercasing only for other names; no NFC
//     composition, no elision.
//   - 1: Snowball stemming and a stop list for all twelve languages, NFC
//     composition, French and Italian elision.
const AnalyzerVersion = 1

// analyzerFor returns the analyzer an index was built with, or an error for
// a version newer than this build knows.
func analyzerFor(c BM25Config) (*Analyzer, error) {
	switch c.AnalyzerVersion {
	case 0:
		return newAnalyzerV0(c.Language), nil
	case AnalyzerVersion:
		return NewAnalyzer(c.Language), nil
	}
	return nil, fmt.Errorf("%w: analyzer version %d is newer than this build's (%d): open the index with a newer whet, or rebuild it",
		ErrIndex, c.AnalyzerVersion, AnalyzerVersion)
}

// newAnalyzerV0 is the analyzer of version 0, as NewAnalyzer was before
// version 1: lang is matched as stored, without canonicalisation.
func newAnalyzerV0(lang string) *Analyzer {
	a := &Analyzer{Language: lang, Version: 0}
	switch lang {
	case "", "en":
		a.Language = "en"
		a.stopwords = setOf(englishStop)
		a.stem = StemEnglish
	case "none":
	case "fr":
		a.stopwords = setOf(frenchStopV0)
	default:
		if sw, ok := otherStop[lang]; ok {
			a.stopwords = setOf(sw)
		}
	}
	return a
}

// frenchStopV0 is the French stop list of analyzer version 0 (version 1
// added elles, ils and les).
const frenchStopV0 = `au aux avec ce ces dans de des du elle en et eux il je la le leur lui ma mais me même mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous c d j l à m n s t y été être est sont`

// NewAnalyzer returns the analyzer for a language named by ISO 639-1 code or
// English name (see Languages): Snowball stemming and a stop list for each,
// "none" for segmentation and lowercasing only. The empty name is English.
// An unknown name gets segmentation and lowercasing only; index creation
// rejects it first (CanonicalLanguage).
func NewAnalyzer(lang string) *Analyzer {
	code, ok := CanonicalLanguage(lang)
	if !ok {
		return &Analyzer{Language: lang, Version: AnalyzerVersion}
	}
	l := languages[code]
	a := &Analyzer{Language: code, Version: AnalyzerVersion, stem: l.stem, elide: l.elide}
	if l.stop != "" {
		a.stopwords = setOf(l.stop)
	}
	return a
}

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// englishStop is Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET.
const englishStop = `a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with`

var otherStop = map[string]string{
	"de": `aber als am an auch auf aus bei bin bis bist da dadurch daher darum das daß dass dein deine dem den der des dessen deshalb die dies dieser dieses doch dort du durch ein eine einem einen einer eines er es euer eure für hatte hatten hattest hattet hier hinter ich ihr ihre im in ist ja jede jedem jeden jeder jedes jener jenes jetzt kann kannst können könnt machen mein meine mit muß mußt musst müssen müßt nach nachdem nein nicht nun oder seid sein seine sich sie sind soll sollen sollst sollt sonst soweit sowie und unser unsere unter vom von vor wann warum was weiter weitere wenn wer werde werden werdet weshalb wie wieder wieso wir wird wirst wo woher wohin zu zum zur über`,
	"fr": `au aux avec ce ces dans de des du elle elles en et eux il ils je la le les leur lui ma mais me même mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous c d j l à m n s t y été être est sont`,
	"es": `de la que el en y a los del se las por un para con no una su al lo como más pero sus le ya o este sí porque esta entre cuando muy sin sobre también me hasta hay donde quien desde todo nos durante todos uno les ni contra otros ese eso ante ellos e esto mí antes algunos qué unos yo otro otras otra él tanto esa estos mucho quienes nada muchos cual poco ella estar estas algunas algo nosotros`,
	"it": `a ad al alla alle agli ai all anche avere che chi con cui da dal dalla dei del della delle dello di e ed gli ha hanno i il in io la le lo loro ma mi mia ne nei nel nella noi non o per più quello questo se si sono su sua sue suo tra un una uno`,
	"nl": `de en van ik te dat die in een hij het niet zijn is was op aan met als voor had er maar om hem dan zou of wat mijn men dit zo door over ze zich bij ook tot je mij uit der daar haar naar heb hoe heeft hebben deze u want nog zal me zij nu ge geen omdat iets worden toch al waren veel meer doen toen moet ben zonder kan hun dus alles onder ja eens hier wie werd altijd doch wordt wezen kunnen ons zelf tegen na reeds wil kon niets uw iemand geweest andere`,
	"pt": `a ao aos as da das de do dos e é em entre era essa esse esta este eu foi há isso isto já mais mas me mesmo meu minha muito na nas não no nos nós o os ou para pela pelo por qual quando que quem se sem ser seu sua são também te tem ter um uma uns você`,
}

func cjk(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r)
}

// Tokens returns the index terms of text in order.
func (a *Analyzer) Tokens(text string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) == 0 {
			return
		}
		w := string(cur)
		cur = cur[:0]
		w = strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "'")
		if a.elide != nil {
			if i := strings.IndexByte(w, '\''); i > 0 && a.elide[w[:i]] {
				w = w[i+1:]
			}
		}
		w = strings.Trim(w, "'")
		if w == "" || a.stopwords[w] {
			return
		}
		if a.stem != nil {
			w = a.stem(w)
		}
		out = append(out, w)
	}
	if a.Version > 0 && !norm.NFC.IsNormalString(text) {
		// Stemmers and stop lists expect precomposed letters (é, not e + ◌́).
		text = norm.NFC.String(text)
	}
	rs := []rune(text)
	for i, r := range rs {
		switch {
		case cjk(r):
			flush()
			out = append(out, string(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			cur = append(cur, unicode.ToLower(r))
		case (r == '\'' || r == '’') && len(cur) > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]):
			cur = append(cur, '\'')
		case (r == '.' || r == ',') && len(cur) > 0 && unicode.IsDigit(cur[len(cur)-1]) && i+1 < len(rs) && unicode.IsDigit(rs[i+1]):
			// Keep numbers such as 3.5 and 1,000 whole.
			cur = append(cur, r)
		default:
			flush()
		}
	}
	flush()
	return out
}
