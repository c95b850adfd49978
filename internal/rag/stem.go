package rag

import "strings"

// StemEnglish is the Snowball English (Porter2) stemmer, as Lucene's
// EnglishAnalyzer-with-Snowball and the reference Snowball implementation
// define it. Input is a lowercased word.
func StemEnglish(word string) string {
	if len(word) <= 2 {
		return word
	}
	if s, ok := stemExceptions1[word]; ok {
		return s
	}
	w := []rune(strings.TrimPrefix(word, "'"))
	// Mark consonant y as Y.
	for i := range w {
		if w[i] == 'y' && (i == 0 || isVowel(w[i-1])) {
			w[i] = 'Y'
		}
	}
	r1, r2 := regions(w)
	w = step0(w)
	w = step1a(w)
	if n := len(w); n >= 6 && n <= 7 && stemExceptions2[string(w)] {
		return unmarkY(w)
	}
	w = step1b(w, r1)
	w = step1c(w)
	w = step2(w, r1)
	w = step3(w, r1, r2)
	w = step4(w, r2)
	w = step5(w, r1, r2)
	return unmarkY(w)
}

// unmarkY turns the consonant marks Y back into y.
func unmarkY(w []rune) string {
	for i, r := range w {
		if r == 'Y' {
			w[i] = 'y'
		}
	}
	return string(w)
}

var stemExceptions1 = map[string]string{
	"skis": "ski", "skies": "sky", "dying": "die", "lying": "lie", "tying": "tie", "idly": "idl", "gently": "gentl",
	"ugly": "ugli", "early": "earli", "only": "onli", "singly": "singl", "sky": "sky", "news": "news", "howe": "howe",
	"atlas": "atlas", "cosmos": "cosmos", "bias": "bias", "andes": "andes",
}

var stemExceptions2 = map[string]bool{
	"inning": true, "outing": true, "canning": true, "herring": true, "earring": true, "proceed": true, "exceed": true, "succeed": true,
}

func isVowel(r rune) bool {
	switch r {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

func regions(w []rune) (r1, r2 int) {
	r1 = len(w)
	switch {
	case startsWith(w, "gener"), startsWith(w, "arsen"):
		r1 = 5
	case startsWith(w, "commun"):
		r1 = 6
	default:
		r1 = regionAfter(w, 0)
	}
	r2 = regionAfter(w, r1)
	return r1, r2
}

// regionAfter is the position after the first non-vowel following a vowel,
// searching from start.
func regionAfter(w []rune, start int) int {
	for i := start + 1; i < len(w); i++ {
		if !isVowel(w[i]) && isVowel(w[i-1]) {
			return i + 1
		}
	}
	return len(w)
}

// hasSuffix is ends with an inlined test of the last letter, which is where
// most candidates fail. The English suffixes are all ASCII.
func hasSuffix(w []rune, s string) bool {
	return len(w) > 0 && w[len(w)-1] == rune(s[len(s)-1]) && ends(w, s)
}

// startsWith reports whether w begins with the ASCII string s.
func startsWith(w []rune, s string) bool {
	if len(w) < len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if w[i] != rune(s[i]) {
			return false
		}
	}
	return true
}

func step0(w []rune) []rune {
	for _, s := range []string{"'s'", "'s", "'"} {
		if hasSuffix(w, s) {
			return w[:len(w)-len([]rune(s))]
		}
	}
	return w
}

func containsVowel(w []rune) bool {
	for _, r := range w {
		if isVowel(r) {
			return true
		}
	}
	return false
}

func step1a(w []rune) []rune {
	switch {
	case hasSuffix(w, "sses"):
		return w[:len(w)-2]
	case hasSuffix(w, "ied"), hasSuffix(w, "ies"):
		if len(w) > 4 {
			return w[:len(w)-2]
		}
		return w[:len(w)-1]
	case hasSuffix(w, "us"), hasSuffix(w, "ss"):
		return w
	case hasSuffix(w, "s"):
		if len(w) >= 3 && containsVowel(w[:len(w)-2]) {
			return w[:len(w)-1]
		}
	}
	return w
}

func isDouble(w []rune) bool {
	if len(w) < 2 || w[len(w)-1] != w[len(w)-2] {
		return false
	}
	switch w[len(w)-1] {
	case 'b', 'd', 'f', 'g', 'm', 'n', 'p', 'r', 't':
		return true
	}
	return false
}

// endsShortSyllable: a vowel followed by a non-vowel other than w, x, Y and
// preceded by a non-vowel; or a vowel at the start followed by a non-vowel.
func endsShortSyllable(w []rune) bool {
	n := len(w)
	if n == 2 {
		return isVowel(w[0]) && !isVowel(w[1])
	}
	if n >= 3 {
		c := w[n-1]
		return !isVowel(w[n-3]) && isVowel(w[n-2]) && !isVowel(c) && c != 'w' && c != 'x' && c != 'Y'
	}
	return false
}

func isShort(w []rune, r1 int) bool { return r1 >= len(w) && endsShortSyllable(w) }

func step1b(w []rune, r1 int) []rune {
	for _, s := range []string{"eedly", "eed"} {
		if hasSuffix(w, s) {
			if len(w)-len(s) >= r1 {
				return append(w[:len(w)-len(s)], 'e', 'e')
			}
			return w
		}
	}
	for _, s := range []string{"ingly", "edly", "ing", "ed"} {
		if !hasSuffix(w, s) {
			continue
		}
		stem := w[:len(w)-len(s)]
		if !containsVowel(stem) {
			return w
		}
		w = stem
		switch {
		case hasSuffix(w, "at"), hasSuffix(w, "bl"), hasSuffix(w, "iz"):
			return append(w, 'e')
		case isDouble(w):
			return w[:len(w)-1]
		case isShort(w, r1):
			return append(w, 'e')
		}
		return w
	}
	return w
}

func step1c(w []rune) []rune {
	n := len(w)
	if n > 2 && (w[n-1] == 'y' || w[n-1] == 'Y') && !isVowel(w[n-2]) {
		w[n-1] = 'i'
	}
	return w
}

var step2Rules = []struct{ suf, rep string }{
	{"ization", "ize"}, {"ational", "ate"}, {"fulness", "ful"}, {"ousness", "ous"}, {"iveness", "ive"},
	{"tional", "tion"}, {"biliti", "ble"}, {"lessli", "less"}, {"entli", "ent"}, {"ation", "ate"}, {"alism", "al"},
	{"aliti", "al"}, {"ousli", "ous"}, {"iviti", "ive"}, {"fulli", "ful"}, {"enci", "ence"}, {"anci", "ance"},
	{"abli", "able"}, {"izer", "ize"}, {"ator", "ate"}, {"alli", "al"}, {"bli", "ble"}, {"ogi", "og"}, {"li", ""},
}

func step2(w []rune, r1 int) []rune {
	for _, r := range step2Rules {
		if !hasSuffix(w, r.suf) {
			continue
		}
		start := len(w) - len(r.suf)
		if start < r1 {
			return w
		}
		switch r.suf {
		case "ogi":
			if start == 0 || w[start-1] != 'l' {
				return w
			}
		case "li":
			if start == 0 || !strings.ContainsRune("cdeghkmnrt", w[start-1]) {
				return w
			}
		}
		return append(w[:start], []rune(r.rep)...)
	}
	return w
}

var step3Rules = []struct{ suf, rep string }{
	{"ational", "ate"}, {"tional", "tion"}, {"alize", "al"}, {"icate", "ic"}, {"iciti", "ic"}, {"ative", ""},
	{"ical", "ic"}, {"ness", ""}, {"ful", ""},
}

func step3(w []rune, r1, r2 int) []rune {
	for _, r := range step3Rules {
		if !hasSuffix(w, r.suf) {
			continue
		}
		start := len(w) - len(r.suf)
		if start < r1 || (r.suf == "ative" && start < r2) {
			return w
		}
		return append(w[:start], []rune(r.rep)...)
	}
	return w
}

var step4Suffixes = []string{"ement", "ance", "ence", "able", "ible", "ment", "ant", "ent", "ism", "ate", "iti", "ous",
	"ive", "ize", "ion", "al", "er", "ic"}

func step4(w []rune, r2 int) []rune {
	for _, s := range step4Suffixes {
		if !hasSuffix(w, s) {
			continue
		}
		start := len(w) - len(s)
		if start < r2 {
			return w
		}
		if s == "ion" && (start == 0 || (w[start-1] != 's' && w[start-1] != 't')) {
			return w
		}
		return w[:start]
	}
	return w
}

func step5(w []rune, r1, r2 int) []rune {
	n := len(w)
	switch {
	case n > 0 && w[n-1] == 'e':
		if n-1 >= r2 || (n-1 >= r1 && !endsShortSyllable(w[:n-1])) {
			return w[:n-1]
		}
	case n > 1 && w[n-1] == 'l' && w[n-2] == 'l' && n-1 >= r2:
		return w[:n-1]
	}
	return w
}
