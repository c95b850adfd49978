package rag

import (
	"sort"
	"strings"
)

// language is one analyzer language: its stop list and stemmer.
type language struct {
	names string // English name and other accepted names
	stop  string
	stem  func(string) string
	elide map[string]bool
}

var languages = map[string]language{
	"en":   {names: "english", stop: englishStop, stem: StemEnglish},
	"de":   {names: "german deutsch", stop: otherStop["de"], stem: StemGerman},
	"fr":   {names: "french français francais", stop: otherStop["fr"], stem: StemFrench, elide: frenchElision},
	"es":   {names: "spanish español espanol castilian", stop: otherStop["es"], stem: StemSpanish},
	"it":   {names: "italian italiano", stop: otherStop["it"], stem: StemItalian, elide: italianElision},
	"pt":   {names: "portuguese português portugues", stop: otherStop["pt"], stem: StemPortuguese},
	"nl":   {names: "dutch nederlands", stop: otherStop["nl"], stem: StemDutch},
	"sv":   {names: "swedish svenska", stop: swedishStop, stem: StemSwedish},
	"da":   {names: "danish dansk", stop: danishStop, stem: StemDanish},
	"no":   {names: "norwegian nb bokmål bokmal norsk", stop: norwegianStop, stem: StemNorwegian},
	"fi":   {names: "finnish suomi", stop: finnishStop, stem: StemFinnish},
	"ru":   {names: "russian русский", stop: russianStop, stem: StemRussian},
	"none": {},
}

// languageNames maps every accepted name to its code.
var languageNames = func() map[string]string {
	m := map[string]string{}
	for code, l := range languages {
		m[code] = code
		for _, n := range strings.Fields(l.names) {
			m[n] = code
		}
	}
	return m
}()

// CanonicalLanguage returns the analyzer code ("de") for a language name
// given as ISO 639-1 code or English name in any case ("de", "German"); the
// empty name is English. ok is false for a language with no analyzer.
func CanonicalLanguage(name string) (code string, ok bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return "en", true
	}
	code, ok = languageNames[name]
	return code, ok
}

// Languages lists the analyzer codes with their English names, sorted by
// code, e.g. "de (german)".
func Languages() []string {
	var out []string
	for code, l := range languages {
		if f := strings.Fields(l.names); len(f) > 0 {
			out = append(out, code+" ("+f[0]+")")
		} else {
			out = append(out, code)
		}
	}
	sort.Strings(out)
	return out
}

// Articles that French and Italian elide before a vowel (l'homme,
// dell'acqua); the analyzer drops them as Lucene's ElisionFilter does.
var (
	frenchElision  = setOf("l m t qu n s j d c jusqu quoiqu lorsqu puisqu")
	italianElision = setOf("c l all dall dell nell sull coll pell gl agl dagl degl negl sugl un m t s v d")
)
