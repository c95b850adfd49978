package rag

// StemPortuguese is the Snowball Portuguese stemmer. Input is a lowercased
// word.
func StemPortuguese(word string) string { return stemWith(word, stemPortuguese) }

func ptVowel(r rune) bool {
	switch r {
	case 'a', 'e', 'i', 'o', 'u', 'á', 'é', 'í', 'ó', 'ú', 'â', 'ê', 'ô':
		return true
	}
	return false
}

var (
	ptStandard = newSuffixList(`eza ezas ico ica icos icas ismo ismos ável ível ista istas oso osa osos
		osas amento amentos imento imentos adora ador aça~o adoras adores aço~es ante antes ância logia
		logias uça~o uço~es ência ências amente mente idade idades iva ivo ivas ivos ira iras`)
	ptAmente = newSuffixList("iv os ic ad")
	// "avel" (not ável) is what the reference algorithm lists.
	ptMente = newSuffixList("ante avel ível")
	ptIdade = newSuffixList("abil ic iv")
	ptVerb  = newSuffixList(`ada ida ia aria eria iria ará ara erá era irá ava asse esse isse aste este iste
		ei arei erei irei am iam ariam eriam iriam aram eram iram avam em arem erem irem assem essem
		issem ado ido ando endo indo ara~o era~o ira~o ar er ir as adas idas ias arias erias irias arás
		aras erás eras irás avas es ardes erdes irdes ares eres ires asses esses isses astes estes istes
		is ais eis íeis aríeis eríeis iríeis áreis areis éreis ereis íreis ireis ásseis ésseis ísseis
		áveis ados idos ámos amos íamos aríamos eríamos iríamos áramos éramos íramos ávamos emos aremos
		eremos iremos ássemos êssemos íssemos imos armos ermos irmos eu iu ou ira iras`)
	ptResidual = newSuffixList("os a i o á í ó")
)

// ptNasal maps ã and õ to the vowels written before "~" while stemming, and back.
var ptNasal = map[rune]rune{'ã': 'a', 'õ': 'o', 'a': 'ã', 'o': 'õ'}

func stemPortuguese(w []rune) []rune {
	// Prelude: nasal ã and õ become a~ and o~.
	for i := 0; i < len(w); i++ {
		if w[i] == 'ã' || w[i] == 'õ' {
			w[i] = ptNasal[w[i]]
			w = append(w[:i+1], append([]rune{'~'}, w[i+1:]...)...)
			i++
		}
	}
	rv := romanceRV(w, ptVowel)
	r1, r2 := standardRegions(w, ptVowel)

	var done bool
	if w, done = ptStandardSuffix(w, rv, r1, r2); !done {
		if v := ptVerb.find(w, rv); v != "" {
			w = w[:len(w)-runeLen(v)]
			done = true
		}
	}
	if done {
		// Step 3.
		if ends(w, "ci") && len(w)-1 >= rv {
			w = w[:len(w)-1]
		}
	} else if s := ptResidual.find(w, 0); s != "" && len(w)-runeLen(s) >= rv {
		// Step 4.
		w = w[:len(w)-runeLen(s)]
	}
	// Step 5: residual form.
	if n := len(w); n > 0 {
		switch w[n-1] {
		case 'e', 'é', 'ê':
			if n-1 >= rv {
				w = w[:n-1]
				if (ends(w, "gu") || ends(w, "ci")) && n-2 >= rv {
					w = w[:n-2]
				}
			}
		case 'ç':
			w[n-1] = 'c'
		}
	}
	// Postlude.
	out := w[:0]
	for i := 0; i < len(w); i++ {
		if i+1 < len(w) && w[i+1] == '~' && (w[i] == 'a' || w[i] == 'o') {
			out = append(out, ptNasal[w[i]])
			i++
			continue
		}
		out = append(out, w[i])
	}
	return out
}

func ptStandardSuffix(w []rune, rv, r1, r2 int) ([]rune, bool) {
	s := ptStandard.find(w, 0)
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
		if t := ptAmente.find(w, 0); t != "" && inR2(t) {
			w = w[:len(w)-2]
			if t == "iv" && inR2("at") {
				w = w[:len(w)-2]
			}
		}
		return w, true
	case "ira", "iras":
		if start < rv || !endsAt(w, start, "e") {
			return w, false
		}
		return replaceSuffix(w, n, "ir"), true
	}
	if start < r2 {
		return w, false
	}
	switch s {
	case "logia", "logias":
		w = replaceSuffix(w, n, "log")
	case "uça~o", "uço~es":
		w = replaceSuffix(w, n, "u")
	case "ência", "ências":
		w = replaceSuffix(w, n, "ente")
	case "mente":
		w = w[:start]
		if t := ptMente.find(w, 0); t != "" && inR2(t) {
			w = w[:len(w)-runeLen(t)]
		}
	case "idade", "idades":
		w = w[:start]
		if t := ptIdade.find(w, 0); t != "" && inR2(t) {
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
