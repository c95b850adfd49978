package pii

import (
	"regexp"
	"strconv"
	"strings"
)

// cardRE finds 13–19 digits with optional single space or dash separators.
var cardRE = regexp.MustCompile(`^[0-9](?:[ \-]?[0-9]){12,18}`)

func detectCards(_ *Detector, x *doc, out []Span) []Span {
	text := x.text
	lastEnd := 0
	for _, pos := range x.numStarts {
		if pos < lastEnd {
			continue
		}
		m := anchored(cardRE, text, pos, 40)
		if m == nil {
			continue
		}
		s, e := m[0], m[1]
		if s > 0 && (isAlnum(text[s-1]) || strings.IndexByte("-.,/+#", text[s-1]) >= 0) {
			continue
		}
		// Part of a longer number: the regex stopped at 19 digits, or the
		// run continues after a separator.
		if e < len(text) && (isAlnum(text[e]) || (strings.IndexByte(" -.", text[e]) >= 0 && e+1 < len(text) && isDigit(text[e+1]) && text[e] != ' ')) {
			continue
		}
		if e+1 < len(text) && text[e] == ' ' && isDigit(text[e+1]) {
			// "4111 1111 1111 1111 2" — a longer spaced number.
			continue
		}
		cand := text[s:e]
		if !consistentCardGroups(cand) {
			continue
		}
		digits := digitsOf(cand)
		if !luhn(digits) || !cardIssuer(digits) {
			continue
		}
		out = append(out, span(TypeCreditCard, text, s, e, 0.97, "credit_card"))
		lastEnd = e
	}
	return out
}

// consistentCardGroups accepts no separators, or one separator kind between
// groups laid out as cards print them (4-4-4-4[-3], 4-6-5, 4-6-4).
func consistentCardGroups(s string) bool {
	hasSpace, hasDash := strings.Contains(s, " "), strings.Contains(s, "-")
	if !hasSpace && !hasDash {
		return true
	}
	if hasSpace && hasDash {
		return false
	}
	sep := " "
	if hasDash {
		sep = "-"
	}
	var sizes []int
	for g := range strings.SplitSeq(s, sep) {
		sizes = append(sizes, len(g))
	}
	switch {
	case len(sizes) == 3 && sizes[0] == 4 && sizes[1] == 6 && (sizes[2] == 5 || sizes[2] == 4):
		return true
	case len(sizes) >= 3:
		for i, n := range sizes {
			if i < len(sizes)-1 && n != 4 {
				return false
			}
			if i == len(sizes)-1 && (n < 1 || n > 4) {
				return false
			}
		}
		return true
	}
	return false
}

func luhn(digits string) bool {
	sum := 0
	for i := range len(digits) {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// cardIssuer reports whether digits start with a known issuer
// identification number and have a length that issuer uses.
func cardIssuer(d string) bool {
	n := len(d)
	p := func(k int) int { v, _ := strconv.Atoi(d[:k]); return v }
	switch {
	case d[0] == '4':
		return n == 13 || n == 16 || n == 19 // Visa
	case p(2) >= 51 && p(2) <= 55, p(4) >= 2221 && p(4) <= 2720:
		return n == 16 // Mastercard
	case p(2) == 34 || p(2) == 37:
		return n == 15 // American Express
	case p(4) == 6011, p(3) >= 644 && p(3) <= 649, p(2) == 65:
		return n >= 16 && n <= 19 // Discover
	case p(4) >= 3528 && p(4) <= 3589:
		return n >= 16 && n <= 19 // JCB
	case p(3) >= 300 && p(3) <= 305, p(2) == 36, p(2) == 38, p(2) == 39:
		return n >= 14 && n <= 19 // Diners Club
	case p(2) == 62:
		return n >= 16 && n <= 19 // UnionPay
	case p(4) >= 2200 && p(4) <= 2204:
		return n >= 16 && n <= 19 // Mir
	}
	switch p(4) {
	case 5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763:
		return n >= 12 && n <= 19 // Maestro
	}
	return false
}

// ibanLengths is the IBAN length per country (ISO 13616 registry).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
	"BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
	"ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
	"HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
	"LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
	"MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
	"RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

var ibanRE = regexp.MustCompile(`^[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}`)

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

func detectIBANs(_ *Detector, x *doc, out []Span) []Span {
	text := x.text
	for i := 0; i+4 <= len(text); i++ {
		if !isUpper(text[i]) || !isUpper(text[i+1]) || !isDigit(text[i+2]) || !isDigit(text[i+3]) || (i > 0 && isAlnum(text[i-1])) {
			continue
		}
		m := anchored(ibanRE, text, i, 48)
		if m == nil {
			continue
		}
		s := m[0]
		want, ok := ibanLengths[text[s:s+2]]
		if !ok {
			continue
		}
		// Take exactly the country's length of characters, spaces allowed
		// only between groups of four.
		var b strings.Builder
		e := s
		for e < m[1] && b.Len() < want {
			if text[e] == ' ' {
				if b.Len()%4 != 0 {
					break
				}
				e++
				continue
			}
			b.WriteByte(text[e])
			e++
		}
		if b.Len() != want || (e < len(text) && isAlnum(text[e])) {
			continue
		}
		if !ibanChecksum(b.String()) {
			continue
		}
		out = append(out, span(TypeIBAN, text, s, e, 0.99, "iban"))
	}
	return out
}

// ibanChecksum is the ISO 7064 mod 97-10 check of an IBAN without spaces.
func ibanChecksum(iban string) bool {
	r := iban[4:] + iban[:4]
	rem := 0
	for i := range len(r) {
		c := r[i]
		switch {
		case isDigit(c):
			rem = (rem*10 + int(c-'0')) % 97
		case 'A' <= c && c <= 'Z':
			rem = (rem*100 + int(c-'A'+10)) % 97
		default:
			return false
		}
	}
	return rem == 1
}

var (
	ssnRE = regexp.MustCompile(`^([0-9]{3})([\- ])([0-9]{2})([\- ])([0-9]{4})`)
)

var ssnCues = []string{"ssn", "ss#", "social security", "social security number", "soc sec", "tax id", "taxpayer id", "itin"}

func detectSSNs(_ *Detector, x *doc, out []Span) []Span {
	text := x.text
	for _, pos := range x.numStarts {
		if e := runEnd(text, pos); e-pos == 9 && (e == len(text) || !isAlnum(text[e])) {
			if containsWord(before(text, pos, 24), ssnCues...) && validSSN(text[pos:pos+3], text[pos+3:pos+5], text[pos+5:e]) {
				out = append(out, span(TypeSSN, text, pos, e, 0.9, "ssn_context"))
			}
			continue
		}
		m := anchored(ssnRE, text, pos, 11)
		if m == nil {
			continue
		}
		s, e := m[0], m[1]
		if text[m[4]:m[5]] != text[m[8]:m[9]] {
			continue // mixed separators
		}
		if s > 0 && (isAlnum(text[s-1]) || strings.IndexByte("-.+/", text[s-1]) >= 0) {
			continue
		}
		if e < len(text) && (isAlnum(text[e]) || (strings.IndexByte("-.", text[e]) >= 0 && e+1 < len(text) && isDigit(text[e+1]))) {
			continue
		}
		cue := containsWord(before(text, s, 40), ssnCues...)
		if text[m[4]:m[5]] == " " && !cue {
			continue
		}
		if !validSSN(text[m[2]:m[3]], text[m[6]:m[7]], text[m[10]:m[11]]) {
			continue
		}
		score := 0.9
		if cue {
			score = 0.99
		}
		out = append(out, span(TypeSSN, text, s, e, score, "ssn"))
	}
	return out
}

// runEnd returns the end of the run of digits starting at i.
func runEnd(text string, i int) int {
	for i < len(text) && isDigit(text[i]) {
		i++
	}
	return i
}

// validSSN applies the Social Security Administration's rules: no area
// 000, 666 or 900–999, no group 00, no serial 0000.
func validSSN(area, group, serial string) bool {
	a, _ := strconv.Atoi(area)
	return a != 0 && a != 666 && a < 900 && group != "00" && serial != "0000"
}
