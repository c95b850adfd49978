package pii

import (
	"embed"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

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

// token is one word of the text: letters with inner apostrophes or hyphens.
type token struct {
	start, end int
	lower      string // ASCII-lower-cased
	name       bool   // shaped like a name: "Anna", "O'Brien", "Al-Sayed", "McDonald"
}

// tokenize splits text into words.
func tokenize(x *doc) []token {
	text := x.text
	var toks []token
	for i := 0; i < len(text); {
		if c := text[i]; c < utf8.RuneSelf && !isLetter(c) {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsLetter(r) {
			i += size
			continue
		}
		s := i
		i += size
		for i < len(text) {
			if c := text[i]; c < utf8.RuneSelf && isLetter(c) {
				i++
				continue
			}
			r, size = utf8.DecodeRuneInString(text[i:])
			if unicode.IsLetter(r) || unicode.IsMark(r) {
				i += size
				continue
			}
			if r == '\'' || r == '’' || r == '-' {
				if n, _ := utf8.DecodeRuneInString(text[i+size:]); i+size < len(text) && unicode.IsLetter(n) {
					i += size
					continue
				}
			}
			break
		}
		toks = append(toks, token{start: s, end: i, lower: x.lower[s:i], name: nameShaped(text[s:i])})
	}
	return toks
}

// nameShaped: an upper-case letter, optionally an apostrophe and another
// upper-case letter (O'Brien), then a lower-case letter.
func nameShaped(w string) bool {
	r, n := utf8.DecodeRuneInString(w)
	if !unicode.IsUpper(r) {
		return false
	}
	w = w[n:]
	if strings.HasPrefix(w, "'") || strings.HasPrefix(w, "’") {
		_, q := utf8.DecodeRuneInString(w)
		r2, n2 := utf8.DecodeRuneInString(w[q:])
		if !unicode.IsUpper(r2) {
			return false
		}
		w = w[q+n2:]
	}
	r, _ = utf8.DecodeRuneInString(w)
	return unicode.IsLower(r)
}

var titles = map[string]bool{
	"Mr": true, "Mrs": true, "Ms": true, "Miss": true, "Mx": true, "Dr": true, "Prof": true, "Herr": true,
	"Frau": true, "Mme": true, "Mlle": true, "Sr": true, "Sra": true, "Sir": true, "Dame": true,
	"Mister": true, "Madam": true, "Monsieur": true, "Madame": true, "Señor": true, "Señora": true,
}

// cues are the lower-cased phrases after which a name follows, longest
// first so that "best regards" wins over "best".
var cues = func() [][]string {
	var out [][]string
	for _, p := range []string{"full name", "my name is", "contact person", "requested by", "reported by", "approved by",
		"assigned to", "signed by", "submitted by", "prepared by", "reviewed by", "written by", "thank you",
		"best regards", "kind regards", "i am", "this is", "ask for",
		"name", "contact", "customer", "employee", "patient", "applicant", "author", "attn", "attention", "client",
		"reviewer", "owner", "dear", "hi", "hello", "thanks", "regards", "best", "sincerely", "cheers", "i'm", "from", "signed",
		"requester", "recipient", "sender", "assignee", "reporter", "agent", "caller"} {
		out = append(out, strings.Fields(p))
	}
	return out
}()

// strongCues introduce a person so reliably that two or more capitalised
// words after them are a name even when none is in the name lists; after
// the other cues ("Customer", "Contact", "Hi") they may be a company or a
// job title, and a listed name is required.
var strongCues = map[string]bool{
	"full name": true, "name": true, "my name is": true, "signed by": true, "signed": true, "i'm": true,
	"i am": true, "dear": true, "regards": true, "best regards": true, "kind regards": true, "sincerely": true,
	"requested by": true, "reported by": true, "approved by": true, "assigned to": true, "submitted by": true,
	"prepared by": true, "reviewed by": true, "written by": true, "requester": true, "patient": true,
	"applicant": true, "employee": true, "attn": true, "attention": true,
}

// orgWords mark a capitalised run as an organisation, product or role
// rather than a person.
var orgWords = map[string]bool{
	"ltd": true, "limited": true, "inc": true, "llc": true, "llp": true, "gmbh": true, "ag": true, "plc": true,
	"corp": true, "corporation": true, "co": true, "company": true, "group": true, "network": true, "bv": true,
	"services": true, "service": true, "solutions": true, "systems": true, "team": true, "manager": true,
	"procedure": true, "policy": true, "process": true, "department": true, "bank": true, "university": true,
	"hospital": true, "school": true, "foundation": true, "partners": true, "holdings": true, "international": true,
	"success": true, "support": true, "agreement": true, "guide": true, "handbook": true, "report": true,
}

// cuesByWord indexes cues by their first word.
var cuesByWord = func() map[string][][]string {
	m := make(map[string][][]string)
	for _, c := range cues {
		m[c[0]] = append(m[c[0]], c)
	}
	return m
}()

// emailNameRE finds email local parts shaped first.last or first_last.
var emailNameRE = regexp.MustCompile(`^([A-Za-z]{2,})[._]([A-Za-z]{2,})[0-9]*$`)

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

func blanks(s string) bool { return s != "" && strings.Trim(s, " \t") == "" }

// nameParticles are the lower-case words inside names: "Joost van der
// Berg", "Ana de la Cruz", "Omar bin Laden".
var nameParticles = map[string]bool{
	"van": true, "von": true, "der": true, "den": true, "de": true, "da": true, "di": true, "du": true,
	"del": true, "della": true, "la": true, "le": true, "bin": true, "ibn": true, "al": true, "ter": true,
	"ten": true, "dos": true, "das": true, "zu": true,
}

// nameRun returns how many tokens from toks[i] on form a name: up to three
// name-shaped tokens separated by spaces or tabs, with particles between
// them.
func nameRun(text string, toks []token, i int) int {
	n, names := 0, 0
	for j := i; j < len(toks) && names < 3 && n < 6; j++ {
		if j > i && !blanks(text[toks[j-1].end:toks[j].start]) {
			break
		}
		if toks[j].name {
			names++
			n = j - i + 1
			continue
		}
		if j == i || !nameParticles[toks[j].lower] {
			break
		}
	}
	return n
}

func detectPersons(d *Detector, x *doc, out []Span) []Span {
	text := x.text
	toks := x.tokens()
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		// Title: "Dr. Priya Patel", "Herr Fischer".
		if titles[text[t.start:t.end]] && i+1 < len(toks) {
			gap := strings.TrimPrefix(text[t.end:toks[i+1].start], ".")
			if blanks(gap) {
				if n := nameRun(text, toks, i+1); n > 0 && !notNames[fold(text[toks[i+1].start:toks[i+1+n-1].end])] {
					s, e := toks[i+1].start, toks[i+n].end
					out = append(out, span(TypePerson, text, s, nameEnd(text, s, e), 0.9, "person_title"))
				}
			}
			continue
		}
		// Cue phrase, then optional ':' or ',', then the name.
		for _, c := range cuesByWord[t.lower] {
			if i+len(c) >= len(toks) || !matchCue(text, toks[i:], c) {
				continue
			}
			j := i + len(c)
			if !cueGap(text[toks[j-1].end:toks[j].start]) {
				break
			}
			if sp, ok := d.cueName(text, toks, j, strongCues[strings.Join(c, " ")]); ok {
				out = append(out, sp)
			}
			break
		}
	}
	out = d.namePairs(text, toks, out)
	return d.emailNames(x, out)
}

// cueGap reports whether the text between a cue and a name is
// [ \t]*[:,]?\s+ — "Name: Ann", "Regards,\nAnn", "Dear Ann".
func cueGap(g string) bool {
	if k := strings.IndexAny(g, ":,"); k >= 0 {
		if strings.Trim(g[:k], " \t") != "" {
			return false
		}
		g = g[k+1:]
	}
	return g != "" && strings.Trim(g, " \t\r\n") == ""
}

func matchCue(text string, toks []token, c []string) bool {
	for k, w := range c {
		if toks[k].lower != w || (k > 0 && !blanks(text[toks[k-1].end:toks[k].start])) {
			return false
		}
	}
	return true
}

// cueName reports the name after a cue when one of its tokens is in the
// name lists, or, after a strong cue, when it has two or more tokens.
func (d *Detector) cueName(text string, toks []token, j int, strong bool) (Span, bool) {
	n := nameRun(text, toks, j)
	k, hit, words := 0, false, 0
	for ; k < n; k++ {
		w := text[toks[j+k].start:toks[j+k].end]
		f := fold(w)
		if orgWords[f] {
			return Span{}, false
		}
		if notNames[f] {
			break
		}
		if toks[j+k].name {
			words++
		}
		if d.known(w) {
			hit = true
		}
	}
	for k > 0 && !toks[j+k-1].name {
		k-- // a run never ends in a particle
	}
	if k == 0 || (!hit && (!strong || words < 2)) {
		return Span{}, false
	}
	score := 0.75
	if hit {
		score = 0.9
	}
	s, e := toks[j].start, toks[j+k-1].end
	return span(TypePerson, text, s, nameEnd(text, s, e), score, "person_cue"), true
}

// namePairs reports "First Last" (and "First Middle Last") where the first
// token is a given name and the last a family name from the lists.
func (d *Detector) namePairs(text string, toks []token, out []Span) []Span {
	for i := 0; i+1 < len(toks); i++ {
		a, b := toks[i], toks[i+1]
		if !a.name || !b.name || !blanks(text[a.end:b.start]) || !d.first[fold(text[a.start:a.end])] {
			continue
		}
		last := fold(trimPossessive(text[b.start:b.end]))
		if !d.last[last] || notNames[last] {
			continue
		}
		e := b.end
		if i+2 < len(toks) && toks[i+2].name && blanks(text[b.end:toks[i+2].start]) && d.last[fold(trimPossessive(text[toks[i+2].start:toks[i+2].end]))] {
			e = toks[i+2].end
		}
		out = append(out, span(TypePerson, text, a.start, nameEnd(text, a.start, e), 0.75, "person_name_list"))
	}
	return out
}

// emailNames reports capitalised occurrences of "First Last" when an email
// address in the same text has the local part first.last or first_last.
func (d *Detector) emailNames(x *doc, out []Span) []Span {
	if strings.IndexByte(x.text, '@') < 0 {
		return out
	}
	text := x.text
	seen := make(map[string]bool)
	for at := strings.IndexByte(text, '@'); at >= 0; {
		s := at
		for s > 0 && (isLocalChar(text[s-1])) {
			s--
		}
		m := emailNameRE.FindStringSubmatch(text[s:at])
		if next := strings.IndexByte(text[at+1:], '@'); next >= 0 {
			at += 1 + next
		} else {
			at = -1
		}
		if m == nil {
			continue
		}
		f, l := fold(m[1]), fold(m[2])
		key := strings.ToLower(m[1]) + " " + strings.ToLower(m[2])
		if seen[key] || !(d.first[f] || d.last[l]) {
			continue
		}
		seen[key] = true
		for off := 0; off < len(x.lower); {
			k := strings.Index(x.lower[off:], key)
			if k < 0 {
				break
			}
			s := off + k
			e := s + len(key)
			off = e
			if !isUpper(text[s]) || (s > 0 && isAlnum(text[s-1])) || (e < len(text) && isAlnum(text[e])) {
				continue
			}
			out = append(out, span(TypePerson, text, s, e, 0.85, "person_email"))
		}
	}
	return out
}
