package rag

// StemSpanish is the Snowball Spanish stemmer. Input is a lowercased word.
func StemSpanish(word string) string { return stemWith(word, stemSpanish) }

func esVowel(r rune) bool {
	switch r {
	case 'a', 'e', 'i', 'o', 'u', 'á', 'é', 'í', 'ó', 'ú', 'ü':
		return true
	}
	return false
}

// romanceRV is the RV region shared by Spanish, Portuguese and Italian: after
// the next vowel when the second letter is a consonant, after the next
// consonant when the first two letters are vowels, otherwise after the third
// letter.
func romanceRV(w []rune, vowel func(rune) bool) int {
	n := len(w)
	if n < 2 {
		return n
	}
	if vowel(w[0]) {
		if !vowel(w[1]) {
			for i := 2; i < n; i++ {
				if vowel(w[i]) {
					return i + 1
				}
			}
		} else {
			for i := 2; i < n; i++ {
				if !vowel(w[i]) {
					return i + 1
				}
			}
		}
		return n
	}
	if !vowel(w[1]) {
		for i := 2; i < n; i++ {
			if vowel(w[i]) {
				return i + 1
			}
		}
		return n
	}
	if n >= 3 {
		return 3
	}
	return n
}

var (
	esPronoun  = newSuffixList("me se sela selo selas selos la le lo las les los nos")
	esGerund   = newSuffixList("iéndo ándo ár ér ír ando iendo ar er ir yendo")
	esStandard = newSuffixList(`anza anzas ico ica icos icas ismo ismos able ables ible ibles ista istas
		oso osa osos osas amiento amientos imiento imientos adora ador ación adoras adores aciones ante
		antes ancia ancias logía logías ución uciones encia encias amente mente idad idades iva ivo ivas ivos`)
	esAmente = newSuffixList("iv os ic ad")
	esMente  = newSuffixList("ante able ible")
	esIdad   = newSuffixList("abil ic iv")
	esYVerb  = newSuffixList("ya ye yan yen yeron yendo yo yó yas yes yais yamos")
	esVerb   = newSuffixList(`en es éis emos arían arías arán arás aríais aría aréis aríamos aremos ará
		aré erían erías erán erás eríais ería eréis eríamos eremos erá eré irían irías irán irás iríais
		iría iréis iríamos iremos irá iré aba ada ida ía ara iera ad ed id ase iese aste iste an aban ían
		aran ieran asen iesen aron ieron ado ido ando iendo ió ar er ir as abas adas idas ías aras ieras
		ases ieses ís áis abais íais arais ierais aseis ieseis asteis isteis ados idos amos ábamos íamos
		imos áramos iéramos iésemos ásemos`)
	esResidual = newSuffixList("os a o á í ó e é")
)

func stemSpanish(w []rune) []rune {
	rv := romanceRV(w, esVowel)
	r1, r2 := standardRegions(w, esVowel)

	// Step 0: attached pronoun after a gerund or infinitive.
	if p := esPronoun.find(w, 0); p != "" {
		base := w[:len(w)-runeLen(p)]
		if g := esGerund.find(base, 0); g != "" && len(base)-runeLen(g) >= rv {
			switch g {
			case "iéndo", "ándo", "ár", "ér", "ír":
				w = replaceSuffix(base, runeLen(g), unaccent(g))
			case "yendo":
				if endsAt(base, len(base)-5, "u") {
					w = base
				}
			default:
				w = base
			}
		}
	}

	// Step 1, else step 2a, else step 2b.
	var done bool
	if w, done = esStandardSuffix(w, r1, r2); !done {
		if y := esYVerb.find(w, rv); y != "" && endsAt(w, len(w)-runeLen(y), "u") {
			w = w[:len(w)-runeLen(y)]
		} else if v := esVerb.find(w, rv); v != "" {
			w = w[:len(w)-runeLen(v)]
			switch v {
			case "en", "es", "éis", "emos":
				if ends(w, "gu") {
					w = w[:len(w)-1]
				}
			}
		}
	}

	// Step 3: residual suffix.
	switch s := esResidual.find(w, 0); s {
	case "os", "a", "o", "á", "í", "ó":
		if len(w)-runeLen(s) >= rv {
			w = w[:len(w)-runeLen(s)]
		}
	case "e", "é":
		if len(w)-1 >= rv {
			w = w[:len(w)-1]
			if ends(w, "gu") && len(w)-1 >= rv {
				w = w[:len(w)-1]
			}
		}
	}
	for i, r := range w {
		w[i] = unaccentRune(r)
	}
	return w
}

func unaccentRune(r rune) rune {
	switch r {
	case 'á':
		return 'a'
	case 'é':
		return 'e'
	case 'í':
		return 'i'
	case 'ó':
		return 'o'
	case 'ú':
		return 'u'
	}
	return r
}

func unaccent(s string) string {
	r := []rune(s)
	for i := range r {
		r[i] = unaccentRune(r[i])
	}
	return string(r)
}

func esStandardSuffix(w []rune, r1, r2 int) ([]rune, bool) {
	s := esStandard.find(w, 0)
	if s == "" {
		return w, false
	}
	n := runeLen(s)
	start := len(w) - n
	inR2 := func(suf string) bool { return ends(w, suf) && len(w)-runeLen(suf) >= r2 }
	switch s {
	case "amente":
		if start < r1 {
			return w, false
		}
		w = w[:start]
		if t := esAmente.find(w, 0); t != "" && len(w)-2 >= r2 {
			w = w[:len(w)-2]
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
	case "adora", "ador", "ación", "adoras", "adores", "aciones", "ante", "antes", "ancia", "ancias":
		w = w[:start]
		if inR2("ic") {
			w = w[:len(w)-2]
		}
	case "logía", "logías":
		w = replaceSuffix(w, n, "log")
	case "ución", "uciones":
		w = replaceSuffix(w, n, "u")
	case "encia", "encias":
		w = replaceSuffix(w, n, "ente")
	case "mente":
		w = w[:start]
		if t := esMente.find(w, 0); t != "" && inR2(t) {
			w = w[:len(w)-4]
		}
	case "idad", "idades":
		w = w[:start]
		if t := esIdad.find(w, 0); t != "" && inR2(t) {
			w = w[:len(w)-runeLen(t)]
		}
	case "iva", "ivo", "ivas", "ivos":
		w = w[:start]
		if inR2("at") {
			w = w[:len(w)-2]
		}
	default:
		w = w[:start]
	}
	return w, true
}
