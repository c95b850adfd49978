package rag

// StemDutch is the Snowball Dutch stemmer (the original Snowball algorithm).
// Input is a lowercased word.
func StemDutch(word string) string { return stemWith(word, stemDutch) }

func nlVowel(r rune) bool {
	switch r {
	case 'a', 'e', 'i', 'o', 'u', 'y', 'è':
		return true
	}
	return false
}

var (
	nlStep1 = newSuffixList("heden en ene s se")
	nlStep3 = newSuffixList("end ing ig lijk baar bar")
)

func nlUndouble(w []rune) []rune {
	if ends(w, "kk") || ends(w, "dd") || ends(w, "tt") {
		return w[:len(w)-1]
	}
	return w
}

// nlENEnding removes a suffix of n runes that starts in R1 after a non-vowel
// not preceded by "gem", then undoubles.
func nlENEnding(w []rune, n, r1 int) ([]rune, bool) {
	start := len(w) - n
	if start < r1 || start < 1 || nlVowel(w[start-1]) || endsAt(w, start, "gem") {
		return w, false
	}
	return nlUndouble(w[:start]), true
}

func nlEEnding(w []rune, r1 int) ([]rune, bool) {
	n := len(w)
	if n < 2 || w[n-1] != 'e' || n-1 < r1 || nlVowel(w[n-2]) {
		return w, false
	}
	return nlUndouble(w[:n-1]), true
}

func stemDutch(w []rune) []rune {
	// Prelude: strip acute and diaeresis accents, mark consonant y and i.
	for i, r := range w {
		switch r {
		case 'ä', 'á':
			w[i] = 'a'
		case 'ë', 'é':
			w[i] = 'e'
		case 'ï', 'í':
			w[i] = 'i'
		case 'ö', 'ó':
			w[i] = 'o'
		case 'ü', 'ú':
			w[i] = 'u'
		}
	}
	if len(w) > 0 && w[0] == 'y' {
		w[0] = 'Y'
	}
	for i := 1; i < len(w); i++ {
		if !nlVowel(w[i-1]) {
			continue
		}
		if w[i] == 'i' && i+1 < len(w) && nlVowel(w[i+1]) {
			w[i] = 'I'
		} else if w[i] == 'y' {
			w[i] = 'Y'
		}
	}
	r1, r2 := standardRegions(w, nlVowel)
	if r1 < 3 {
		r1 = min(3, len(w))
	}

	// Step 1.
	switch s := nlStep1.find(w, 0); s {
	case "heden":
		if len(w)-5 >= r1 {
			w = replaceSuffix(w, 5, "heid")
		}
	case "en", "ene":
		w, _ = nlENEnding(w, len(s), r1)
	case "s", "se":
		start := len(w) - len(s)
		if start >= r1 && start >= 1 && !nlVowel(w[start-1]) && w[start-1] != 'j' {
			w = w[:start]
		}
	}
	// Step 2.
	w, eFound := nlEEnding(w, r1)
	// Step 3a.
	if ends(w, "heid") && len(w)-4 >= r2 && !endsAt(w, len(w)-4, "c") {
		w = w[:len(w)-4]
		if ends(w, "en") {
			w, _ = nlENEnding(w, 2, r1)
		}
	}
	// Step 3b.
	switch s := nlStep3.find(w, 0); s {
	case "end", "ing":
		if len(w)-3 >= r2 {
			w = w[:len(w)-3]
			if ends(w, "ig") && len(w)-2 >= r2 && !endsAt(w, len(w)-2, "e") {
				w = w[:len(w)-2]
			} else {
				w = nlUndouble(w)
			}
		}
	case "ig":
		if len(w)-2 >= r2 && !endsAt(w, len(w)-2, "e") {
			w = w[:len(w)-2]
		}
	case "lijk":
		if len(w)-4 >= r2 {
			w, _ = nlEEnding(w[:len(w)-4], r1)
		}
	case "baar":
		if len(w)-4 >= r2 {
			w = w[:len(w)-4]
		}
	case "bar":
		if len(w)-3 >= r2 && eFound {
			w = w[:len(w)-3]
		}
	}
	// Step 4: undouble a vowel in a closing consonant-vowel-vowel-consonant.
	if n := len(w); n >= 4 && !nlVowel(w[n-1]) && w[n-1] != 'I' && w[n-2] == w[n-3] && !nlVowel(w[n-4]) {
		switch w[n-2] {
		case 'a', 'e', 'o', 'u':
			w = append(w[:n-2], w[n-1])
		}
	}
	// Postlude.
	for i, r := range w {
		switch r {
		case 'Y':
			w[i] = 'y'
		case 'I':
			w[i] = 'i'
		}
	}
	return w
}
