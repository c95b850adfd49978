package rag

// StemRussian is the Snowball Russian stemmer. Input is a lowercased word in
// Cyrillic.
func StemRussian(word string) string { return stemWith(word, stemRussian) }

func ruVowel(r rune) bool {
	switch r {
	case 'а', 'е', 'и', 'о', 'у', 'ы', 'э', 'ю', 'я':
		return true
	}
	return false
}

// Suffixes of group 1 must follow а or я; those of group 2 stand alone.
var (
	ruGerund1     = newSuffixList("в вши вшись")
	ruGerund      = newSuffixList("в вши вшись ив ыв ивши ывши ившись ывшись")
	ruAdjective   = newSuffixList("ее ие ое ые ими ыми ей ий ой ый ем им ом ым его ого ему ому их ых ею ою ую юю ая яя")
	ruParticiple1 = newSuffixList("ем нн вш ющ щ")
	ruParticiple  = newSuffixList("ем нн вш ивш ывш ующ ющ щ")
	ruReflexive   = newSuffixList("ся сь")
	ruVerb1       = newSuffixList("ла на ете йте ли й л ем н ло но ет ют ны ть ешь нно")
	ruVerb        = newSuffixList(`ла на ете йте ли й л ем н ло но ет ют ны ть ешь нно ила ыла ена ите ейте уйте или ыли
		ей уй ил ыл им ым ен ило ыло ено ят ует уют ит ыт ены ить ыть ишь ую ю`)
	ruNoun = newSuffixList(`а ев ов ие ье е иями ями ами еи ии и ией ей ой ий й иям ям ием ем ам ом о у иях
		ях ах ы ь ию ью ю ия ья я`)
)

// ruRemove removes the longest suffix from list found in RV, where a group-1
// suffix must follow а or я inside RV. It reports whether it removed one.
func ruRemove(w []rune, rv int, list, group1 *suffixList) ([]rune, bool) {
	s := list.find(w, rv)
	if s == "" {
		return w, false
	}
	start := len(w) - runeLen(s)
	if group1.find(w, rv) == s {
		if start-1 < rv || (w[start-1] != 'а' && w[start-1] != 'я') {
			return w, false
		}
	}
	return w[:start], true
}

func stemRussian(w []rune) []rune {
	for i, r := range w {
		if r == 'ё' {
			w[i] = 'е'
		}
	}
	rv := len(w)
	for i, r := range w {
		if ruVowel(r) {
			rv = i + 1
			break
		}
	}
	_, r2 := standardRegions(w, ruVowel)

	// Step 1.
	var ok bool
	if w, ok = ruRemove(w, rv, ruGerund, ruGerund1); !ok {
		if s := ruReflexive.find(w, rv); s != "" {
			w = w[:len(w)-2]
		}
		if s := ruAdjective.find(w, rv); s != "" {
			w = w[:len(w)-runeLen(s)]
			w, _ = ruRemove(w, rv, ruParticiple, ruParticiple1)
		} else if w, ok = ruRemove(w, rv, ruVerb, ruVerb1); !ok {
			if s := ruNoun.find(w, rv); s != "" {
				w = w[:len(w)-runeLen(s)]
			}
		}
	}
	// Step 2.
	if n := len(w); n-1 >= rv && w[n-1] == 'и' {
		w = w[:n-1]
	}
	// Step 3: derivational -ост(ь) in R2.
	if ends(w, "ость") && len(w)-4 >= max(r2, rv) {
		w = w[:len(w)-4]
	} else if ends(w, "ост") && len(w)-3 >= max(r2, rv) {
		w = w[:len(w)-3]
	}
	// Step 4: tidy up.
	switch {
	case ends(w, "ейше") && len(w)-4 >= rv:
		w = ruUndoubleN(w[:len(w)-4], rv)
	case ends(w, "ейш") && len(w)-3 >= rv:
		w = ruUndoubleN(w[:len(w)-3], rv)
	case ends(w, "ь") && len(w)-1 >= rv:
		w = w[:len(w)-1]
	default:
		w = ruUndoubleN(w, rv)
	}
	return w
}

func ruUndoubleN(w []rune, rv int) []rune {
	if ends(w, "нн") && len(w)-2 >= rv {
		return w[:len(w)-1]
	}
	return w
}
