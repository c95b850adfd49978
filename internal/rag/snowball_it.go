package rag

// StemItalian is the Snowball Italian stemmer. Input is a lowercased word.
func StemItalian(word string) string { return stemWith(word, stemItalian) }

func itVowel(r rune) bool {
	switch r {
	case 'a', 'e', 'i', 'o', 'u', 'à', 'è', 'ì', 'ò', 'ù':
		return true
	}
	return false
}

var (
	itPronoun = newSuffixList(`ci gli la le li lo mi ne si ti vi sene gliela gliele glieli glielo gliene
		mela mele meli melo mene tela tele teli telo tene cela cele celi celo cene vela vele veli velo vene`)
	itGerund   = newSuffixList("ando endo ar er ir")
	itStandard = newSuffixList(`anza anze ico ici ica ice iche ichi ismo ismi abile abili ibile ibili ista
		iste isti istà istè istì oso osi osa ose mente atrice atrici ante anti azione azioni atore atori
		logia logie uzione uzioni usione usioni enza enze amento amenti imento imenti amente ità ivo ivi
		iva ive`)
	itAmente = newSuffixList("iv os ic abil")
	itIta    = newSuffixList("abil ic iv")
	// The reference list keeps "Yamo", which no Italian word reaches.
	itVerb = newSuffixList(`ammo ando ano are arono asse assero assi assimo ata ate ati ato ava avamo avano
		avate avi avo emmo enda ende endi endo erà erai eranno ere erebbe erebbero erei eremmo eremo
		ereste eresti erete erò erono essero ete eva evamo evano evate evi evo Yamo iamo immo irà irai
		iranno ire irebbe irebbero irei iremmo iremo ireste iresti irete irò irono isca iscano isce isci
		isco iscono issero ita ite iti ito iva ivamo ivano ivate ivi ivo ar ir uta ute uti uto ono`)
)

func stemItalian(w []rune) []rune {
	// Prelude: acute accents become grave, qu is marked, and u and i
	// between vowels are marked consonants.
	for i, r := range w {
		switch r {
		case 'á':
			w[i] = 'à'
		case 'é':
			w[i] = 'è'
		case 'í':
			w[i] = 'ì'
		case 'ó':
			w[i] = 'ò'
		case 'ú':
			w[i] = 'ù'
		case 'u':
			if i > 0 && w[i-1] == 'q' {
				w[i] = 'U'
			}
		}
	}
	for i := 1; i+1 < len(w); i++ {
		if (w[i] == 'u' || w[i] == 'i') && itVowel(w[i-1]) && itVowel(w[i+1]) {
			w[i] -= 'a' - 'A'
		}
	}
	rv := romanceRV(w, itVowel)
	r1, r2 := standardRegions(w, itVowel)

	// Step 0: attached pronoun.
	if p := itPronoun.find(w, 0); p != "" {
		base := w[:len(w)-runeLen(p)]
		if g := itGerund.find(base, 0); g != "" && len(base)-runeLen(g) >= rv {
			if g == "ando" || g == "endo" {
				w = base
			} else {
				w = append(base, 'e')
			}
		}
	}

	// Step 1, else step 2.
	var done bool
	if w, done = itStandardSuffix(w, rv, r1, r2); !done {
		if v := itVerb.find(w, rv); v != "" {
			w = w[:len(w)-runeLen(v)]
		}
	}

	// Step 3a: a final vowel in RV, and an i before it.
	if n := len(w); n > 0 && n-1 >= rv {
		switch w[n-1] {
		case 'a', 'e', 'i', 'o', 'à', 'è', 'ì', 'ò':
			w = w[:n-1]
			if n-2 >= rv && w[n-2] == 'i' {
				w = w[:n-2]
			}
		}
	}
	// Step 3b: ch and gh in RV lose the h.
	if (ends(w, "ch") || ends(w, "gh")) && len(w)-2 >= rv {
		w = w[:len(w)-1]
	}
	for i, r := range w {
		switch r {
		case 'I':
			w[i] = 'i'
		case 'U':
			w[i] = 'u'
		}
	}
	return w
}

func itStandardSuffix(w []rune, rv, r1, r2 int) ([]rune, bool) {
	s := itStandard.find(w, 0)
	if s == "" {
		return w, false
	}
	n := runeLen(s)
	start := len(w) - n
	inR2 := func(suf string) bool { return ends(w, suf) && len(w)-runeLen(suf) >= r2 }
	switch s {
	case "amento", "amenti", "imento", "imenti":
		if start < rv {
			return w, false
		}
		return w[:start], true
	case "amente":
		if start < r1 {
			return w, false
		}
		w = w[:start]
		if t := itAmente.find(w, 0); t != "" && inR2(t) {
			w = w[:len(w)-runeLen(t)]
			if t == "iv" && inR2("at") {
				w = w[:len(w)-2]
			}
		}
		return w, true
	}
	if start < r2 {
		return w, false
	}
	switch s {
	case "azione", "azioni", "atore", "atori":
		w = w[:start]
		if inR2("ic") {
			w = w[:len(w)-2]
		}
	case "logia", "logie":
		w = replaceSuffix(w, n, "log")
	case "uzione", "uzioni", "usione", "usioni":
		w = replaceSuffix(w, n, "u")
	case "enza", "enze":
		w = replaceSuffix(w, n, "ente")
	case "ità":
		w = w[:start]
		if t := itIta.find(w, 0); t != "" && inR2(t) {
			w = w[:len(w)-runeLen(t)]
		}
	case "ivo", "ivi", "iva", "ive":
		w = w[:start]
		if inR2("at") {
			w = w[:len(w)-2]
			if inR2("ic") {
				w = w[:len(w)-2]
			}
		}
	default:
		w = w[:start]
	}
	return w, true
}
