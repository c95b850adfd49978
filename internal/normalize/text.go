package normalize

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Text returns s normalised for storage, fingerprinting and training:
// invalid UTF-8 is replaced by U+FFFD, the text is put in Unicode NFKC,
// "\r\n" and "\r" become "\n", control and invisible format characters are
// dropped (tab, newline, ZWJ and ZWNJ are kept; tabs count as spaces), runs
// of horizontal whitespace collapse to one space, lines are trimmed, runs of
// blank lines collapse to one blank line, and the result is trimmed.
//
// Text is idempotent: Text(Text(s)) == Text(s).
func Text(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	pendingSpace := false // horizontal whitespace seen since the last rune written on this line
	newlines := 0         // newlines seen since the last rune written
	lineStart := true
	for i := 0; i < len(s); {
		if c := s[i]; c > ' ' && c < 0x7f && newlines == 0 && !pendingSpace {
			// Printable ASCII in the middle of a line: the common case.
			b.WriteByte(c)
			lineStart = false
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				i++
			}
			newlines++
			pendingSpace = false
			lineStart = true
			continue
		case r == '\n' || r == '\u2028' || r == '\u2029' || r == '\v' || r == '\f' || r == '\u0085':
			newlines++
			pendingSpace = false
			lineStart = true
			continue
		case r == '\t' || unicode.IsSpace(r):
			if !lineStart {
				pendingSpace = true
			}
			continue
		case r == '\u200c' || r == '\u200d':
			// ZWNJ and ZWJ change the rendering of Indic, Persian and emoji text.
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			continue
		}
		if b.Len() > 0 {
			if newlines > 0 {
				b.WriteByte('\n')
				if newlines > 1 {
					b.WriteByte('\n')
				}
			} else if pendingSpace {
				b.WriteByte(' ')
			}
		}
		newlines = 0
		pendingSpace = false
		lineStart = false
		b.WriteRune(r)
	}
	out := b.String()
	// Dropping a control character can leave a base letter next to a
	// combining mark ("A\x7f\u0301"); compose those too.
	if !norm.NFKC.IsNormalString(out) {
		out = norm.NFKC.String(out)
	}
	return out
}

// Collapse returns s normalised by [Text] with every run of whitespace,
// newlines included, replaced by one space. It is the form fingerprints are
// computed over, so that re-wrapping a paragraph does not change its identity.
func Collapse(s string) string {
	t := Text(s)
	if !strings.ContainsRune(t, '\n') {
		return t
	}
	return strings.Join(strings.Fields(t), " ")
}
