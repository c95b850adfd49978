package rag

import "strings"

// StemFinnish is the Snowball Finnish stemmer. Input is a lowercased word.
func StemFinnish(word string) string { return stemWith(word, stemFinnish) }

func fiV1(r rune) bool {
	switch r {
	case 'a', 'e', 'i', 'o', 'u', 'y', 'ä', 'ö':
		return true
	}
	return false
}

func fiV2(r rune) bool { return r != 'y' && fiV1(r) }

// fiC is the consonant grouping of the algorithm (ASCII only).
func fiC(r rune) bool { return r < 0x80 && strings.ContainsRune("bcdfghjklmnpqrstvwxz", r) }

var (
	fiParticle   = newSuffixList("kin kaan kään ko kö han hän pa pä sti")
	fiPossessive = newSuffixList("si ni nsa nsä mme nne an än en")
	fiCase       = newSuffixList(`han hen hin hon hän hön siin seen den tten n a ä tta ttä ta tä ssa ssä sta stä
		lla llä lta ltä lle na nä ksi ine`)
	fiOther = newSuffixList("mpi mpa mpä mmi mma mmä impi impa impä immi imma immä eja ejä")
)

// fiLong reports whether w[:end] ends with a doubled vowel.
func fiLong(w []rune, end int) bool {
	if end < 2 || w[end-1] != w[end-2] {
		return false
	}
	switch w[end-1] {
	case 'a', 'e', 'i', 'o', 'u', 'ä', 'ö':
		return true
	}
	return false
}

// at returns w[i], or 0 outside the word.
func at(w []rune, i int) rune {
	if i < 0 || i >= len(w) {
		return 0
	}
	return w[i]
}

func stemFinnish(w []rune) []rune {
	p1, p2 := standardRegions(w, fiV1)

	// Particles and -sti.
	if s := fiParticle.find(w, p1); s != "" {
		start := len(w) - runeLen(s)
		if s == "sti" {
			if start >= p2 {
				w = w[:start]
			}
		} else if c := at(w, start-1); fiV1(c) || c == 'n' || c == 't' {
			w = w[:start]
		}
	}
	// Possessive suffixes.
	if s := fiPossessive.find(w, p1); s != "" {
		start := len(w) - runeLen(s)
		base := w[:start]
		switch s {
		case "si":
			if at(w, start-1) != 'k' {
				w = base
			}
		case "ni":
			w = base
			if ends(w, "kse") {
				w[len(w)-1] = 'i'
			}
		case "nsa", "nsä", "mme", "nne":
			w = base
		case "an":
			for _, e := range [...]string{"ta", "ssa", "sta", "lla", "lta", "na"} {
				if ends(base, e) {
					w = base
					break
				}
			}
		case "än":
			for _, e := range [...]string{"tä", "ssä", "stä", "llä", "ltä", "nä"} {
				if ends(base, e) {
					w = base
					break
				}
			}
		case "en":
			if ends(base, "lle") || ends(base, "ine") {
				w = base
			}
		}
	}
	// Case endings.
	endingRemoved := false
	if s := fiCase.find(w, p1); s != "" {
		start := len(w) - runeLen(s)
		// siin, den and tten need a vowel and i before them, seen a long
		// vowel (inside R1); otherwise only the final n is a case ending.
		switch s {
		case "siin", "den", "tten":
			if start-2 < p1 || at(w, start-1) != 'i' || !fiV2(at(w, start-2)) {
				s, start = "n", len(w)-1
			}
		case "seen":
			if start-2 < p1 || !fiLong(w, start) {
				s, start = "n", len(w)-1
			}
		}
		ok := true
		switch s {
		case "han", "hen", "hin", "hon", "hän", "hön":
			ok = at(w, start-1) == []rune(s)[1]
		case "tta", "ttä":
			ok = at(w, start-1) == 'e'
		case "n":
			if (fiLong(w, start) || endsAt(w, start, "ie")) && start > 0 {
				start--
			}
		case "a", "ä":
			ok = fiV1(at(w, start-1)) && fiC(at(w, start-2))
		}
		if ok {
			w = w[:start]
			endingRemoved = true
		}
	}
	// Other endings (comparatives and superlatives).
	if s := fiOther.find(w, p2); s != "" {
		start := len(w) - runeLen(s)
		switch s {
		case "mpi", "mpa", "mpä", "mmi", "mma", "mmä":
			if !endsAt(w, start, "po") {
				w = w[:start]
			}
		default:
			w = w[:start]
		}
	}
	// Plurals.
	if endingRemoved {
		if n := len(w); n-1 >= p1 && (w[n-1] == 'i' || w[n-1] == 'j') {
			w = w[:n-1]
		}
	} else if n := len(w); n-2 >= p1 && w[n-1] == 't' && fiV1(w[n-2]) {
		w = w[:n-1]
		if ends(w, "imma") && len(w)-4 >= p2 {
			w = w[:len(w)-4]
		} else if ends(w, "mma") && len(w)-3 >= p2 && !endsAt(w, len(w)-3, "po") {
			w = w[:len(w)-3]
		}
	}
	return fiTidy(w, p1)
}

func fiTidy(w []rune, p1 int) []rune {
	if len(w) < p1 {
		return w
	}
	if n := len(w); n-2 >= p1 && fiLong(w, n) {
		w = w[:n-1]
	}
	if n := len(w); n-2 >= p1 && (w[n-1] == 'a' || w[n-1] == 'ä' || w[n-1] == 'e' || w[n-1] == 'i') && fiC(w[n-2]) {
		w = w[:n-1]
	}
	if n := len(w); n-2 >= p1 && w[n-1] == 'j' && (w[n-2] == 'o' || w[n-2] == 'u') {
		w = w[:n-1]
	}
	if n := len(w); n-2 >= p1 && w[n-1] == 'o' && w[n-2] == 'j' {
		w = w[:n-1]
	}
	// Undouble the last consonant before any final vowels.
	i := len(w) - 1
	for i >= 0 && fiV1(w[i]) {
		i--
	}
	if i >= 1 && fiC(w[i]) && w[i-1] == w[i] {
		w = append(w[:i], w[i+1:]...)
	}
	return w
}
