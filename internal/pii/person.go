package pii

import (
	"embed"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

//go:embed names/*.txt
var nameFiles embed.FS

func loadNames(path string) (map[string]bool, error) {
	b, err := nameFiles.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pii: load name list: %w", err)
	}
	m := make(map[string]bool)
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, w := range strings.Fields(line) {
			m[fold(w)] = true
		}
	}
	return m, nil
}

// fold lower-cases a name and strips its diacritics, so that "Müller",
// "Muller" and "MÜLLER" are one key.
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		switch r {
		case 'ß':
			b.WriteString("ss")
			continue
		case 'ł', 'Ł':
			r = 'l'
		case 'ø', 'Ø':
			r = 'o'
		case 'ı':
			r = 'i'
		case '’':
			r = '\''
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// A name token: capitalised, then lower-case letters, with O'Brien,
// McDonald and Al-Sayed shapes.
const nameToken = `\p{Lu}(?:['’]\p{Lu})?\p{Ll}[\p{L}'’\-]*`

var (
	// Titles: the following one to three name tokens are a person.
	titleRE = regexp.MustCompile(`\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Herr|Frau|Mme|Mlle|Sr|Sra|Sir|Dame|Mister|Madam|Monsieur|Madame|Señor|Señora)\.?[ \t]+(` + nameToken + `(?:[ \t]+` + nameToken + `){0,2})`)
	// Cue phrases: the following tokens are a person when a token is in
	// the name lists or there are two or more tokens.
	cueRE  = regexp.MustCompile(`(?i:\b(?:full\s+name|name|contact\s+person|contact|customer|employee|patient|applicant|author|attn|attention|client|requested\s+by|reported\s+by|approved\s+by|assigned\s+to|signed\s+by|submitted\s+by|prepared\s+by|reviewed\s+by|written\s+by|reviewer|owner|dear|hi|hello|thanks|thank\s+you|regards|best\s+regards|kind\s+regards|best|sincerely|cheers|i'm|i\s+am|my\s+name\s+is|this\s+is|ask\s+for|from))[ \t]*[:,]?\s+(` + nameToken + `(?:[ \t]+` + nameToken + `){0,2})`)
	wordRE = regexp.MustCompile(nameToken)
	// Email local parts shaped first.last or first_last.
	emailNameRE = regexp.MustCompile(`\b([A-Za-z]{2,})[._]([A-Za-z]{2,})[0-9]*@`)
)

// notNames are capitalised words that follow cue words ("Hi Team",
// "Contact Support") or head sentences but are never names.
var notNames = map[string]bool{
	"team": true, "all": true, "everyone": true, "support": true, "sales": true, "us": true, "the": true,
	"customer": true, "service": true, "department": true, "office": true, "finance": true, "hr": true,
	"there": true, "again": true, "sir": true, "madam": true, "page": true, "details": true, "information": true,
	"name": true, "phone": true, "email": true, "address": true, "date": true, "and": true, "or": true,
}

func (d *Detector) known(tok string) bool {
	f := fold(trimPossessive(tok))
	return d.first[f] || d.last[f]
}

func trimPossessive(tok string) string {
	for _, suf := range []string{"'s", "’s"} {
		if strings.HasSuffix(tok, suf) {
			return tok[:len(tok)-len(suf)]
		}
	}
	return strings.TrimRight(tok, "'’-")
}

// nameEnd trims a possessive "'s" and trailing punctuation from the name
// text[s:e] and returns the new end.
func nameEnd(text string, s, e int) int {
	return s + len(trimPossessive(text[s:e]))
}

func detectPersons(d *Detector, text string, out []Span) []Span {
	for _, m := range titleRE.FindAllStringSubmatchIndex(text, -1) {
		s, e := m[2], m[3]
		if notNames[fold(text[s:e])] {
			continue
		}
		out = append(out, span(TypePerson, text, s, nameEnd(text, s, e), 0.9, "person_title"))
	}
	for _, m := range cueRE.FindAllStringSubmatchIndex(text, -1) {
		s, e := m[2], m[3]
		toks := strings.Fields(text[s:e])
		// Cut at the first token that is not a name ("Contact Support Now").
		n := 0
		hit := false
		for _, t := range toks {
			if notNames[fold(t)] {
				break
			}
			if d.known(t) {
				hit = true
			}
			n++
		}
		if n == 0 || (!hit && n < 2) {
			continue
		}
		if n < len(toks) {
			e = s + strings.Index(text[s:e], toks[n-1]) + len(toks[n-1])
		}
		score := 0.75
		if hit {
			score = 0.9
		}
		out = append(out, span(TypePerson, text, s, nameEnd(text, s, e), score, "person_cue"))
	}
	out = d.namePairs(text, out)
	return d.emailNames(text, out)
}

// namePairs reports "First Last" (and "First Middle Last") where the first
// token is a given name and the last a family name from the lists.
func (d *Detector) namePairs(text string, out []Span) []Span {
	toks := wordRE.FindAllStringIndex(text, -1)
	for i := 0; i+1 < len(toks); i++ {
		a, b := toks[i], toks[i+1]
		if !spacesOnly(text[a[1]:b[0]]) || !d.first[fold(text[a[0]:a[1]])] {
			continue
		}
		last := fold(trimPossessive(text[b[0]:b[1]]))
		if !d.last[last] || notNames[last] {
			continue
		}
		e := b[1]
		if i+2 < len(toks) && spacesOnly(text[b[1]:toks[i+2][0]]) && d.last[fold(trimPossessive(text[toks[i+2][0]:toks[i+2][1]]))] {
			e = toks[i+2][1]
		}
		out = append(out, span(TypePerson, text, a[0], nameEnd(text, a[0], e), 0.75, "person_name_list"))
	}
	return out
}

// emailNames reports occurrences of "First Last" when an email address in
// the same text has the local part first.last or first_last.
func (d *Detector) emailNames(text string, out []Span) []Span {
	seen := make(map[string]bool)
	for _, m := range emailNameRE.FindAllStringSubmatch(text, -1) {
		f, l := fold(m[1]), fold(m[2])
		if seen[f+" "+l] || !(d.first[f] || d.last[l]) {
			continue
		}
		seen[f+" "+l] = true
		re, err := regexp.Compile(`(?i)\b` + regexp.QuoteMeta(m[1]) + `[ \t]+` + regexp.QuoteMeta(m[2]) + `\b`)
		if err != nil {
			continue
		}
		for _, x := range re.FindAllStringIndex(text, -1) {
			if text[x[0]] < 'A' || text[x[0]] > 'Z' {
				continue // only capitalised mentions
			}
			out = append(out, span(TypePerson, text, x[0], x[1], 0.85, "person_email"))
		}
	}
	return out
}

func spacesOnly(s string) bool {
	return s != "" && strings.Trim(s, " \t") == ""
}
