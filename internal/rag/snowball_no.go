package rag

import "strings"

// StemNorwegian is the Snowball Norwegian (Bokmål) stemmer. Input is a
// lowercased word.
func StemNorwegian(word string) string { return stemWith(word, stemNorwegian) }

var (
	noMain = newSuffixList(`a e ede ande ende ane ene hetene erte en heten ar er heter s as es edes endes
		enes hetenes ens hetens ers ets et het ert ast`)
	noOther = newSuffixList("leg eleg ig eig lig elig els lov elov slov hetslov")
)

func stemNorwegian(w []rune) []rune {
	r1 := nordicR1(w, daVowel)
	switch s := noMain.find(w, r1); s {
	case "":
	case "s":
		if n := len(w); n >= 2 && (strings.ContainsRune("bcdfghjlmnoprtvyz", w[n-2]) ||
			w[n-2] == 'k' && n >= 3 && !daVowel(w[n-3])) {
			w = w[:n-1]
		}
	case "erte", "ert":
		w = replaceSuffix(w, len(s), "er")
	default:
		w = w[:len(w)-runeLen(s)]
	}
	if (ends(w, "dt") || ends(w, "vt")) && len(w)-2 >= r1 {
		w = w[:len(w)-1]
	}
	if s := noOther.find(w, r1); s != "" {
		w = w[:len(w)-len(s)]
	}
	return w
}
