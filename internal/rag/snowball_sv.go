package rag

import "strings"

// StemSwedish is the Snowball Swedish stemmer. Input is a lowercased word.
func StemSwedish(word string) string { return stemWith(word, stemSwedish) }

func svVowel(r rune) bool {
	switch r {
	case 'a', 'e', 'i', 'o', 'u', 'y', 'ä', 'å', 'ö':
		return true
	}
	return false
}

// nordicR1 is R1 moved right, where needed, so that at least three letters
// precede it (Swedish, Danish, Norwegian).
func nordicR1(w []rune, vowel func(rune) bool) int {
	if len(w) < 3 {
		return len(w)
	}
	return max(regionAfterVC(w, 0, vowel), 3)
}

var (
	svMain = newSuffixList(`a arna erna heterna orna ad e ade ande arne are aste en anden aren heten ern
		ar er heter or s as arnas ernas ornas es ades andes ens arens hetens erns at andet het ast`)
	svOther = newSuffixList("lig ig els löst fullt")
)

func stemSwedish(w []rune) []rune {
	r1 := nordicR1(w, svVowel)
	switch s := svMain.find(w, r1); s {
	case "":
	case "s":
		if n := len(w); n >= 2 && strings.ContainsRune("bcdfghjklmnoprtvy", w[n-2]) {
			w = w[:n-1]
		}
	default:
		w = w[:len(w)-runeLen(s)]
	}
	// Consonant pairs lose their last letter.
	if n := len(w); n-2 >= r1 {
		switch string(w[n-2:]) {
		case "dd", "gd", "nn", "dt", "gt", "kt", "tt":
			w = w[:n-1]
		}
	}
	switch s := svOther.find(w, r1); s {
	case "lig", "ig", "els":
		w = w[:len(w)-len(s)]
	case "löst", "fullt":
		w = w[:len(w)-1]
	}
	return w
}
