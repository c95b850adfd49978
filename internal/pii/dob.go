package pii

import (
	"regexp"
	"strconv"
	"strings"
)

// dobCueRE finds the words that introduce a date of birth.
var dobCueRE = regexp.MustCompile(`(?i)(?:\bd\.o\.b\.?|\bdob\b|\bdate\s+of\s+birth\b|\bbirth\s*date\b|\bbirthday\b|\bborn(?:\s+on)?\b|\bgeboren(?:\s+am)?\b|\bgeburtsdatum\b|\bnée?\s+le\b|\bdate\s+de\s+naissance\b|\bfecha\s+de\s+nacimiento\b|\bdata\s+di\s+nascita\b)`)

const monthNames = `(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|januar|februar|märz|mai|juni|juli|oktober|dezember|janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre)`

// dobDateRE matches one date right at the start of the text after a cue.
var dobDateRE = regexp.MustCompile(`(?i)^(?:the\s+)?(?:` +
	`(?P<y1>[0-9]{4})-(?P<m1>[0-9]{1,2})-(?P<d1>[0-9]{1,2})` +
	`|(?P<a2>[0-9]{1,2})[./\-](?P<b2>[0-9]{1,2})[./\-](?P<y2>[0-9]{4}|[0-9]{2})` +
	`|(?P<mn3>` + monthNames + `)\.?\s+(?P<d3>[0-9]{1,2})(?:st|nd|rd|th)?,?\s+(?P<y3>[0-9]{4})` +
	`|(?P<d4>[0-9]{1,2})(?:st|nd|rd|th|\.)?(?:\s+of)?\s+(?P<mn4>` + monthNames + `)\.?,?\s+(?P<y4>[0-9]{4})` +
	`)`)

// dobCueTable finds the words where the cue pattern is tried.
var dobCueTable = newPrefixTable("dob", "d.o.b", "birth", "born", "geboren", "geburtsdatum", "né", "nee", "naissance", "nacimiento", "nascita")

func detectDOBs(_ *Detector, x *doc, out []Span) []Span {
	text := x.text
	// Run the cue pattern on a small window around each cue word.
	ends := make(map[int]bool)
	wordStarts(dobCueTable, x, func(at int, _ string) {
		lo := max(0, at-16)
		for _, m := range dobCueRE.FindAllStringIndex(text[lo:min(len(text), at+40)], -1) {
			ends[lo+m[1]] = true
		}
	})
	for i := range ends {
		// Skip the separator between cue and date: ':', '=', '-', spaces,
		// and a parenthesised format hint is not expected before the date.
		for i < len(text) && strings.IndexByte(" \t:=-–,", text[i]) >= 0 {
			i++
		}
		if i >= len(text) {
			continue
		}
		sm := dobDateRE.FindStringSubmatchIndex(text[i:])
		if sm == nil {
			continue
		}
		e := i + sm[1]
		if e < len(text) && (isAlnum(text[e]) || (strings.IndexByte("./-", text[e]) >= 0 && e+1 < len(text) && isDigit(text[e+1]))) {
			continue
		}
		if !plausibleDOB(dobDateRE, text[i:], sm) {
			continue
		}
		out = append(out, span(TypeDateOfBirth, text, i, e, 0.9, "date_of_birth"))
	}
	return out
}

func plausibleDOB(re *regexp.Regexp, s string, sm []int) bool {
	g := func(name string) string {
		k := re.SubexpIndex(name)
		if sm[2*k] < 0 {
			return ""
		}
		return s[sm[2*k]:sm[2*k+1]]
	}
	num := func(v string) int { n, _ := strconv.Atoi(v); return n }
	year := 0
	switch {
	case g("y1") != "":
		year = num(g("y1"))
		return validYMD(year, num(g("m1")), num(g("d1")))
	case g("y2") != "":
		year = num(g("y2"))
		if len(g("y2")) == 2 {
			year += 1900
		}
		a, b := num(g("a2")), num(g("b2"))
		return validYMD(year, a, b) || validYMD(year, b, a)
	case g("y3") != "":
		return validYMD(num(g("y3")), 1, num(g("d3")))
	case g("y4") != "":
		return validYMD(num(g("y4")), 1, num(g("d4")))
	}
	return false
}

func validYMD(y, m, d int) bool {
	return y >= 1890 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= 31
}
