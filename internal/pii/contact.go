package pii

import (
	"regexp"
	"strings"
)

var emailRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._%+\-]*[A-Za-z0-9_%+\-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}`)

// fileExtensions are "TLDs" that mark asset names like logo@2x.png.
var fileExtensions = map[string]bool{
	"png": true, "jpg": true, "jpeg": true, "gif": true, "svg": true, "webp": true,
	"ico": true, "css": true, "js": true, "ts": true, "json": true, "map": true, "pdf": true,
}

func isLocalChar(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || isDigit(c) || strings.IndexByte("._%+-", c) >= 0
}

// detectEmails works outward from each '@': back over the local part, then
// the anchored pattern forward.
func detectEmails(_ *Detector, x *doc, out []Span) []Span {
	text := x.text
	lastEnd := 0
	for off := 0; off < len(text); {
		k := strings.IndexByte(text[off:], '@')
		if k < 0 {
			break
		}
		at := off + k
		off = at + 1
		s := at
		for s > lastEnd && isLocalChar(text[s-1]) {
			s--
		}
		if s == at || !isAlnum(text[s]) || (s > 0 && (isAlnum(text[s-1]) || text[s-1] == '@')) {
			continue
		}
		m := anchored(emailRE, text, s, at-s+256)
		if m == nil {
			continue
		}
		e := m[1]
		if e < len(text) && (isAlnum(text[e]) || text[e] == '@') {
			continue
		}
		tld := text[strings.LastIndexByte(text[s:e], '.')+s+1 : e]
		if fileExtensions[strings.ToLower(tld)] || strings.Contains(text[s:at], "..") {
			continue
		}
		out = append(out, span(TypeEmail, text, s, e, 0.99, "email"))
		lastEnd = e
		off = e
	}
	return out
}

// Phone formats, checked against a candidate run of digits and separators.
var (
	// +CC … or 00CC …: international, 8–15 digits (E.164).
	phoneIntlRE = regexp.MustCompile(`^(?:\+|00)[1-9][0-9]*(?:(?:[ .\-]|[ ]?\(0?[0-9]*\)[ ]?)[0-9]+)*$`)
	// North American numbering plan: (NXX) NXX-XXXX, NXX-NXX-XXXX, 1-NXX-…
	phoneNANPRE = regexp.MustCompile(`^(?:1[ .\-]?)?(?:\([2-9][0-9]{2}\)[ ]?[0-9]|[2-9][0-9]{2}[ .\-][2-9])[0-9]{2}[ .\-][0-9]{4}$`)
	// National numbers with a trunk 0, grouped by spaces or dashes
	// (UK 020 7946 0958, DE 030 901820, FR 01 42 68 53 00).
	phoneNationalRE = regexp.MustCompile(`^0[1-9][0-9]{0,4}(?:[ \-/][0-9]{2,8}){1,4}$`)
	// Anything digit-and-separator shaped, accepted only with a phone cue.
	phoneLooseRE = regexp.MustCompile(`^\(?[0-9][0-9 .\-()]*[0-9]$`)
	dateLikeRE   = regexp.MustCompile(`^(?:[0-9]{4}[.\-/][0-9]{1,2}[.\-/][0-9]{1,2}|[0-9]{1,2}[.\-/][0-9]{1,2}[.\-/][0-9]{2,4})$`)
)

var phoneCues = []string{"phone", "tel", "telephone", "call", "mobile", "cell", "fax", "whatsapp", "ring",
	"contact", "landline", "hotline", "telefon", "téléphone", "teléfono", "telefono", "sms", "text", "mob", "ph", "my number", "tlf"}

var phoneAntiCues = []string{"order", "invoice", "ticket", "tracking", "isbn", "ref", "reference", "account", "acct",
	"serial", "sku", "id", "no", "nr", "case", "ein", "barcode", "code", "build", "version", "po", "item", "part", "batch", "lot"}

func isPhoneSep(b byte) bool { return b == ' ' || b == '-' || b == '.' || b == '(' || b == ')' }

// detectPhones scans runs of digits and single separators, trims them and
// checks them against the phone formats, shortening a run group by group
// from the right when the whole run is not a number.
func detectPhones(_ *Detector, x *doc, out []Span) []Span {
	text := x.text
	for i := 0; i < len(text); {
		c := text[i]
		if !(isDigit(c) || c == '+' || c == '(') {
			i++
			continue
		}
		if i > 0 && badPhoneStart(text, i) {
			// Inside a token, a decimal, a price, a reference.
			i = skipToken(text, i)
			continue
		}
		j := i + 1
		for j < len(text) {
			b := text[j]
			if isDigit(b) {
				j++
				continue
			}
			if isPhoneSep(b) && j+1 < len(text) && (isDigit(text[j+1]) || (isPhoneSep(text[j+1]) && text[j+1] != b && j+2 < len(text) && isDigit(text[j+2]))) {
				j++
				continue
			}
			break
		}
		end := j
		for end > i && !isDigit(text[end-1]) {
			end--
		}
		if end < len(text) && end == j && (isLetter(text[end]) || text[end] == '@' || (text[end] == '.' && end+1 < len(text) && isDigit(text[end+1]))) {
			i = skipToken(text, j)
			continue
		}
		if sp, ok := phoneAt(text, i, end); ok {
			out = append(out, sp)
			i = sp.End
			continue
		}
		// Restart at the next group ("1999-12-25 555-867-5309"), unless
		// the run is one space-grouped number.
		k := i + 1
		for k < end && isDigit(text[k]) {
			k++
		}
		if k < end && text[k] == ' ' {
			k = end
		}
		i = k + 1
	}
	return out
}

// badPhoneStart reports a candidate glued to what precedes it: a token,
// a decimal or thousands separator, a price, a reference mark.
func badPhoneStart(text string, i int) bool {
	p := text[i-1]
	switch {
	case isAlnum(p) || strings.IndexByte(".-+/#@$", p) >= 0:
		return true
	case p == ',' || p == ':':
		return i >= 2 && isDigit(text[i-2])
	case p == ' ':
		// "DE89 3704 0044 …": the middle of a longer spaced number.
		return i >= 2 && isDigit(text[i-2])
	case p == 0xAC || p == 0xA3: // last bytes of "€" and "£"
		return true
	}
	return false
}

func skipToken(text string, i int) int {
	for i < len(text) && (isAlnum(text[i]) || strings.IndexByte(".-+/#", text[i]) >= 0) {
		i++
	}
	return i + 1
}

// phoneAt checks text[start:end] and its prefixes ending at group
// boundaries.
func phoneAt(text string, start, end int) (Span, bool) {
	if text[start] == '(' && strings.IndexByte(text[start:end], ')') < 0 {
		start++
	}
	ctx := before(text, start, 28)
	cue := containsWord(ctx, phoneCues...)
	anti := containsWord(before(text, start, 20), phoneAntiCues...) || strings.HasSuffix(strings.TrimSpace(ctx), "#")
	for e := end; e > start; {
		cand := text[start:e]
		if sp, ok := phoneCandidate(text, cand, start, e, cue, anti); ok {
			return sp, true
		}
		// Drop the last group.
		k := e - 1
		for k > start && isDigit(text[k-1]) {
			k--
		}
		for k > start && !isDigit(text[k-1]) {
			k--
		}
		e = k
	}
	return Span{}, false
}

func phoneCandidate(text, cand string, s, e int, cue, anti bool) (Span, bool) {
	n := len(digitsOf(cand))
	if n < 7 || n > 15 || dateLikeRE.MatchString(cand) {
		return Span{}, false
	}
	if strings.Count(cand, "(") != strings.Count(cand, ")") {
		return Span{}, false
	}
	switch {
	case phoneIntlRE.MatchString(cand):
		if n < 8 || (anti && !cue) {
			return Span{}, false
		}
		return span(TypePhone, text, s, e, 0.95, "phone_international"), true
	case anti && !cue:
		return Span{}, false
	case phoneNANPRE.MatchString(cand):
		return span(TypePhone, text, s, e, 0.9, "phone_nanp"), true
	case phoneNationalRE.MatchString(cand) && n >= 9 && n <= 12:
		return span(TypePhone, text, s, e, 0.85, "phone_national"), true
	case cue && phoneLooseRE.MatchString(cand) && !strings.Contains(cand, "."):
		return span(TypePhone, text, s, e, 0.7, "phone_context"), true
	}
	return Span{}, false
}
