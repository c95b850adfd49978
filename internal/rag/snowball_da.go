package rag

import "strings"

// StemDanish is the Snowball Danish stemmer. Input is a lowercased word.
func StemDanish(word string) string { return stemWith(word, stemDanish) }

func daVowel(r rune) bool {
	switch r {
	case 'a', 'e', 'i', 'o', 'u', 'y', 'æ', 'å', 'ø':
		return true
	}
	return false
}

var (
	daMain = newSuffixList(`hed ethed ered e erede ende erende ene erne ere en heden eren er heder erer
		s heds es endes erendes enes ernes eres ens hedens erens ers ets erets et eret`)
	daOther = newSuffixList("ig lig elig els løst")
)

func daConsonantPair(w []rune, r1 int) []rune {
	if n := len(w); n-2 >= r1 {
		switch string(w[n-2:]) {
		case "gd", "dt", "gt", "kt":
			return w[:n-1]
		}
	}
	return w
}

func stemDanish(w []rune) []rune {
	r1 := nordicR1(w, daVowel)
	switch s := daMain.find(w, r1); s {
	case "":
	case "s":
		if n := len(w); n >= 2 && strings.ContainsRune("abcdfghjklmnoprtvyzå", w[n-2]) {
			w = w[:n-1]
		}
	default:
		w = w[:len(w)-runeLen(s)]
	}
	w = daConsonantPair(w, r1)
	if ends(w, "igst") {
		w = w[:len(w)-2]
	}
	switch s := daOther.find(w, r1); s {
	case "ig", "lig", "elig", "els":
		w = daConsonantPair(w[:len(w)-len(s)], r1)
	case "løst":
		w = w[:len(w)-1]
	}
	// Undouble a final consonant in R1.
	if n := len(w); n-1 >= r1 && n >= 2 && w[n-1] == w[n-2] && w[n-1] < 0x80 && w[n-1] >= 'b' && w[n-1] <= 'z' && !daVowel(w[n-1]) {
		w = w[:n-1]
	}
	return w
}
