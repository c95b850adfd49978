package rag

// StemGerman is the Snowball German stemmer. Input is a lowercased word.
func StemGerman(word string) string { return stemWith(word, stemGerman) }

func deVowel(r rune) bool {
	switch r {
	case 'a', 'e', 'i', 'o', 'u', 'y', 'ä', 'ö', 'ü':
		return true
	}
	return false
}

var (
	deStep1 = newSuffixList("em ern er e en es s")
	deStep2 = newSuffixList("en er est st")
	deStep3 = newSuffixList("end ung ig ik isch lich heit keit")
)

func deSEnding(r rune) bool {
	switch r {
	case 'b', 'd', 'f', 'g', 'h', 'k', 'l', 'm', 'n', 'r', 't':
		return true
	}
	return false
}

func stemGerman(w []rune) []rune {
	// Prelude: ß becomes ss; u and y between vowels are marked consonants.
	for i := 0; i < len(w); i++ {
		if w[i] == 'ß' {
			w = append(w[:i], append([]rune{'s', 's'}, w[i+1:]...)...)
			i++
		}
	}
	for i := 1; i+1 < len(w); i++ {
		if deVowel(w[i-1]) && deVowel(w[i+1]) && (w[i] == 'u' || w[i] == 'y') {
			w[i] -= 'a' - 'A'
		}
	}
	r1, r2 := standardRegions(w, deVowel)
	if len(w) < 3 {
		r1, r2 = len(w), len(w)
	} else if r1 < 3 {
		r1 = 3
	}

	// Step 1.
	if s := deStep1.find(w, 0); s != "" {
		start := len(w) - runeLen(s)
		if start >= r1 {
			switch s {
			case "em", "ern", "er":
				w = w[:start]
			case "e", "en", "es":
				w = w[:start]
				if ends(w, "niss") {
					w = w[:len(w)-1]
				}
			case "s":
				if start > 0 && deSEnding(w[start-1]) {
					w = w[:start]
				}
			}
		}
	}
	// Step 2.
	if s := deStep2.find(w, 0); s != "" {
		start := len(w) - runeLen(s)
		if start >= r1 {
			if s != "st" {
				w = w[:start]
			} else if start-1 >= 3 && deSEnding(w[start-1]) && w[start-1] != 'r' {
				w = w[:start]
			}
		}
	}
	// Step 3: d-suffixes.
	if s := deStep3.find(w, 0); s != "" {
		start := len(w) - runeLen(s)
		if start >= r2 {
			switch s {
			case "end", "ung":
				w = w[:start]
				if ends(w, "ig") && len(w)-2 >= r2 && !endsAt(w, len(w)-2, "e") {
					w = w[:len(w)-2]
				}
			case "ig", "ik", "isch":
				if !endsAt(w, start, "e") {
					w = w[:start]
				}
			case "lich", "heit":
				w = w[:start]
				if (ends(w, "er") || ends(w, "en")) && len(w)-2 >= r1 {
					w = w[:len(w)-2]
				}
			case "keit":
				w = w[:start]
				if ends(w, "lich") && len(w)-4 >= r2 {
					w = w[:len(w)-4]
				} else if ends(w, "ig") && len(w)-2 >= r2 {
					w = w[:len(w)-2]
				}
			}
		}
	}
	// Postlude.
	for i, r := range w {
		switch r {
		case 'U', 'ü':
			w[i] = 'u'
		case 'Y':
			w[i] = 'y'
		case 'ä':
			w[i] = 'a'
		case 'ö':
			w[i] = 'o'
		}
	}
	return w
}
