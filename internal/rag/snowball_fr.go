package rag

// StemFrench is the Snowball French stemmer. Input is a lowercased word.
func StemFrench(word string) string { return stemWith(word, stemFrench) }

func frVowel(r rune) bool {
	switch r {
	case 'a', 'e', 'i', 'o', 'u', 'y', 'â', 'à', 'ë', 'é', 'ê', 'è', 'ï', 'î', 'ô', 'û', 'ù':
		return true
	}
	return false
}

var (
	frStep1 = newSuffixList(`ance iqUe isme able iste eux ances iqUes ismes ables istes
		atrice ateur ation atrices ateurs ations logie logies usion ution usions utions ence ences
		ement ements ité ités if ive ifs ives eaux aux euse euses issement issements amment emment ment ments`)
	frIVerb = newSuffixList(`îmes ît îtes i ie ies ir ira irai iraIent irais irait iras irent irez iriez
		irions irons iront is issaIent issais issait issant issante issantes issants isse issent isses
		issez issiez issions issons it`)
	frVerb = newSuffixList(`ions é ée ées és èrent er era erai eraIent erais erait eras erez eriez erions
		erons eront ez iez âmes ât âtes a ai aIent ais ait ant ante antes ants as asse assent asses assiez assions`)
	frResidual = newSuffixList("ion ier ière Ier Ière e")
)

type frWord struct {
	w          []rune
	rv, r1, r2 int
}

func (f *frWord) in(pos, region int) bool { return pos >= region }

// cut removes the last n runes.
func (f *frWord) cut(n int) { f.w = f.w[:len(f.w)-n] }

// endsIn reports whether the word ends with s starting at or after region.
func (f *frWord) endsIn(s string, region int) bool {
	return ends(f.w, s) && len(f.w)-runeLen(s) >= region
}

func stemFrench(w []rune) []rune {
	w = frPrelude(w)
	f := &frWord{w: w}
	f.markRegions()

	if f.standardSuffix() || f.iVerbSuffix() || f.verbSuffix() {
		n := len(f.w)
		if n > 0 && f.w[n-1] == 'Y' {
			f.w[n-1] = 'i'
		} else if n > 0 && f.w[n-1] == 'ç' {
			f.w[n-1] = 'c'
		}
	} else {
		f.residualSuffix()
	}
	// Undouble.
	if ends(f.w, "enn") || ends(f.w, "onn") || ends(f.w, "ett") || ends(f.w, "ell") || ends(f.w, "eill") {
		f.cut(1)
	}
	// Un-accent: é or è followed by at least one non-vowel at the end.
	i := len(f.w) - 1
	for i >= 0 && !frVowel(f.w[i]) {
		i--
	}
	if i >= 0 && i < len(f.w)-1 && (f.w[i] == 'é' || f.w[i] == 'è') {
		f.w[i] = 'e'
	}
	return frPostlude(f.w)
}

// frPrelude marks u, i and y that act as consonants in upper case and turns ë
// and ï into He and Hi. Like Snowball's "repeat goto", it retries a position
// after each change, so marks made earlier are seen by later tests.
func frPrelude(w []rune) []rune {
	v := func(i int) bool { return i < len(w) && frVowel(w[i]) }
	for p := 0; p < len(w); {
		r := w[p]
		switch {
		case frVowel(r) && p+1 < len(w) && ((w[p+1] == 'u' || w[p+1] == 'i') && v(p+2) || w[p+1] == 'y'):
			w[p+1] -= 'a' - 'A'
		case r == 'ë' || r == 'ï':
			plain := 'e'
			if r == 'ï' {
				plain = 'i'
			}
			w[p] = 'H'
			w = append(w[:p+1], append([]rune{plain}, w[p+1:]...)...)
		case r == 'y' && v(p+1):
			w[p] = 'Y'
		case r == 'q' && p+1 < len(w) && w[p+1] == 'u':
			w[p+1] = 'U'
		default:
			p++
		}
	}
	return w
}

func frPostlude(w []rune) []rune {
	out := w[:0]
	for i := 0; i < len(w); i++ {
		switch r := w[i]; r {
		case 'I', 'U', 'Y':
			out = append(out, r+('a'-'A'))
		case 'H':
			if i+1 < len(w) && w[i+1] == 'e' {
				out = append(out, 'ë')
				i++
			} else if i+1 < len(w) && w[i+1] == 'i' {
				out = append(out, 'ï')
				i++
			}
		default:
			out = append(out, r)
		}
	}
	return out
}

func (f *frWord) markRegions() {
	w := f.w
	n := len(w)
	f.rv = n
	switch {
	case n >= 3 && frVowel(w[0]) && frVowel(w[1]):
		f.rv = 3
	case n >= 3 && (ends(w[:3], "par") || ends(w[:3], "col") || ends(w[:3], "tap")):
		f.rv = 3
	default:
		for i := 1; i < n; i++ {
			if frVowel(w[i]) {
				f.rv = i + 1
				break
			}
		}
	}
	f.r1, f.r2 = standardRegions(w, frVowel)
}

// standardSuffix is step 1. It reports whether a suffix was removed in a way
// that skips step 2; -ment endings change the word and still go on to step 2.
func (f *frWord) standardSuffix() bool {
	s := frStep1.find(f.w, 0)
	if s == "" {
		return false
	}
	start := len(f.w) - runeLen(s)
	switch s {
	case "ance", "iqUe", "isme", "able", "iste", "eux", "ances", "iqUes", "ismes", "ables", "istes":
		if start < f.r2 {
			return false
		}
		f.cut(len(s))
	case "atrice", "ateur", "ation", "atrices", "ateurs", "ations":
		if start < f.r2 {
			return false
		}
		f.cut(len(s))
		if ends(f.w, "ic") {
			if f.endsIn("ic", f.r2) {
				f.cut(2)
			} else {
				f.w = replaceSuffix(f.w, 2, "iqU")
			}
		}
	case "logie", "logies":
		if start < f.r2 {
			return false
		}
		f.w = replaceSuffix(f.w, len(s), "log")
	case "usion", "ution", "usions", "utions":
		if start < f.r2 {
			return false
		}
		f.w = replaceSuffix(f.w, len(s), "u")
	case "ence", "ences":
		if start < f.r2 {
			return false
		}
		f.w = replaceSuffix(f.w, len(s), "ent")
	case "ement", "ements":
		if start < f.rv {
			return false
		}
		f.cut(len(s))
		switch {
		case ends(f.w, "iv"):
			if f.endsIn("iv", f.r2) {
				f.cut(2)
				if f.endsIn("at", f.r2) {
					f.cut(2)
				}
			}
		case ends(f.w, "eus"):
			if f.endsIn("eus", f.r2) {
				f.cut(3)
			} else if f.endsIn("eus", f.r1) {
				f.w = replaceSuffix(f.w, 3, "eux")
			}
		case ends(f.w, "abl"), ends(f.w, "iqU"):
			if len(f.w)-3 >= f.r2 {
				f.cut(3)
			}
		case ends(f.w, "ièr"), ends(f.w, "Ièr"):
			if len(f.w)-3 >= f.rv {
				f.w = replaceSuffix(f.w, 3, "i")
			}
		}
	case "ité", "ités":
		if start < f.r2 {
			return false
		}
		f.cut(runeLen(s))
		switch {
		case ends(f.w, "abil"):
			if f.endsIn("abil", f.r2) {
				f.cut(4)
			} else {
				f.w = replaceSuffix(f.w, 4, "abl")
			}
		case ends(f.w, "ic"):
			if f.endsIn("ic", f.r2) {
				f.cut(2)
			} else {
				f.w = replaceSuffix(f.w, 2, "iqU")
			}
		case ends(f.w, "iv"):
			if f.endsIn("iv", f.r2) {
				f.cut(2)
			}
		}
	case "if", "ive", "ifs", "ives":
		if start < f.r2 {
			return false
		}
		f.cut(len(s))
		if f.endsIn("at", f.r2) {
			f.cut(2)
			if ends(f.w, "ic") {
				if f.endsIn("ic", f.r2) {
					f.cut(2)
				} else {
					f.w = replaceSuffix(f.w, 2, "iqU")
				}
			}
		}
	case "eaux":
		f.cut(1)
	case "aux":
		if start < f.r1 {
			return false
		}
		f.w = replaceSuffix(f.w, 3, "al")
	case "euse", "euses":
		if start >= f.r2 {
			f.cut(len(s))
		} else if start >= f.r1 {
			f.w = replaceSuffix(f.w, len(s), "eux")
		} else {
			return false
		}
	case "issement", "issements":
		if start < f.r1 || start < 1 || frVowel(f.w[start-1]) {
			return false
		}
		f.cut(len(s))
	case "amment":
		if start >= f.rv {
			f.w = replaceSuffix(f.w, 6, "ant")
		}
		return false
	case "emment":
		if start >= f.rv {
			f.w = replaceSuffix(f.w, 6, "ent")
		}
		return false
	case "ment", "ments":
		if start >= 1 && start-1 >= f.rv && frVowel(f.w[start-1]) {
			f.cut(len(s))
		}
		return false
	}
	return true
}

// iVerbSuffix is step 2a.
func (f *frWord) iVerbSuffix() bool {
	s := frIVerb.find(f.w, f.rv)
	if s == "" {
		return false
	}
	start := len(f.w) - runeLen(s)
	if start-1 < f.rv || f.w[start-1] == 'H' || frVowel(f.w[start-1]) {
		return false
	}
	f.cut(runeLen(s))
	return true
}

// verbSuffix is step 2b.
func (f *frWord) verbSuffix() bool {
	s := frVerb.find(f.w, f.rv)
	if s == "" {
		return false
	}
	n := runeLen(s)
	start := len(f.w) - n
	switch s {
	case "ions":
		if start < f.r2 {
			return false
		}
		f.cut(n)
	case "âmes", "ât", "âtes", "a", "ai", "aIent", "ais", "ait", "ant", "ante", "antes", "ants", "as",
		"asse", "assent", "asses", "assiez", "assions":
		f.cut(n)
		if f.endsIn("e", f.rv) {
			f.cut(1)
		}
	default:
		f.cut(n)
	}
	return true
}

// residualSuffix is step 4.
func (f *frWord) residualSuffix() {
	if n := len(f.w); n >= 2 && f.w[n-1] == 's' {
		if ends(f.w[:n-1], "Hi") {
			f.cut(1)
		} else {
			switch f.w[n-2] {
			case 'a', 'i', 'o', 'u', 'è', 's':
			default:
				f.cut(1)
			}
		}
	}
	s := frResidual.find(f.w, f.rv)
	start := len(f.w) - runeLen(s)
	switch s {
	case "ion":
		if start >= f.r2 && start-1 >= f.rv && (f.w[start-1] == 's' || f.w[start-1] == 't') {
			f.cut(3)
		}
	case "ier", "ière", "Ier", "Ière":
		f.w = replaceSuffix(f.w, runeLen(s), "i")
	case "e":
		f.cut(1)
	}
}
