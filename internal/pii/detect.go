package pii

import (
	"regexp"
	"slices"
	"strings"
)

// Detector finds PII spans in text. It is immutable after [NewDetector]
// and safe for concurrent use.
type Detector struct {
	first map[string]bool // folded given names
	last  map[string]bool // folded family names
}

// NewDetector builds a detector with the embedded name lists.
func NewDetector() (*Detector, error) {
	first, err := loadNames("names/first.txt")
	if err != nil {
		return nil, err
	}
	last, err := loadNames("names/last.txt")
	if err != nil {
		return nil, err
	}
	return &Detector{first: first, last: last}, nil
}

// doc is one text under detection with the views several detectors share.
type doc struct {
	text  string
	lower string // ASCII-lower-cased text, same byte offsets
	// numStarts are the offsets of digit runs not glued to a preceding
	// letter or digit: where numbers (cards, SSNs, IPs, house numbers) start.
	numStarts []int
	toks      []token // words, built on first use
	tokDone   bool
}

// tokens returns the words of the text.
func (x *doc) tokens() []token {
	if !x.tokDone {
		x.toks = tokenize(x)
		x.tokDone = true
	}
	return x.toks
}

// prefixTable finds which of a set of lower-case prefixes start at a word.
type prefixTable *[256][]string

func newPrefixTable(prefixes ...string) prefixTable {
	var t [256][]string
	for _, p := range prefixes {
		t[p[0]] = append(t[p[0]], p)
	}
	return &t
}

// wordStarts calls fn for every word start where one of the prefixes
// begins, with the prefix.
func wordStarts(t prefixTable, x *doc, fn func(at int, prefix string)) {
	for _, tok := range x.tokens() {
		rest := x.lower[tok.start:]
		for _, p := range t[rest[0]] {
			if strings.HasPrefix(rest, p) {
				fn(tok.start, p)
			}
		}
	}
}

func newDoc(text string) *doc {
	x := &doc{text: text}
	b := []byte(text)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
		if isDigit(c) && (i == 0 || !isAlnum(text[i-1])) {
			x.numStarts = append(x.numStarts, i)
		}
	}
	x.lower = string(b)
	return x
}

// containsAny reports whether the lower-cased text contains one of subs.
func (x *doc) containsAny(subs ...string) bool {
	for _, s := range subs {
		if strings.Contains(x.lower, s) {
			return true
		}
	}
	return false
}

// anchored runs re, which must start with ^, on a window of text at pos
// and returns the submatch indexes shifted to text offsets, or nil.
func anchored(re *regexp.Regexp, text string, pos, window int) []int {
	m := re.FindStringSubmatchIndex(text[pos:min(len(text), pos+window)])
	if m == nil {
		return nil
	}
	for i := range m {
		if m[i] >= 0 {
			m[i] += pos
		}
	}
	return m
}

type detectFunc func(d *Detector, x *doc, out []Span) []Span

var detectors = map[Type]detectFunc{
	TypeEmail:       detectEmails,
	TypePhone:       detectPhones,
	TypeCreditCard:  detectCards,
	TypeIBAN:        detectIBANs,
	TypeSSN:         detectSSNs,
	TypeIPAddress:   detectIPs,
	TypeDateOfBirth: detectDOBs,
	TypeAddress:     detectAddresses,
	TypeSecret:      detectSecrets,
	TypePerson:      detectPersons,
}

// Detect returns the non-overlapping spans of the given types in text,
// ordered by Start. No types means all of them; unknown types are ignored
// (use [Config.Validate] to reject them).
func (d *Detector) Detect(text string, types ...Type) []Span {
	if len(types) == 0 {
		types = AllTypes()
	}
	x := newDoc(text)
	var cands []Span
	for _, t := range types {
		if f, ok := detectors[t]; ok {
			cands = f(d, x, cands)
		}
	}
	return resolve(cands)
}

// resolve keeps a non-overlapping subset of cands: the most specific type
// first, then the longest span, then the earliest.
func resolve(cands []Span) []Span {
	if len(cands) == 0 {
		return nil
	}
	slices.SortStableFunc(cands, func(a, b Span) int {
		if r := b.Type.rank() - a.Type.rank(); r != 0 {
			return r
		}
		if l := (b.End - b.Start) - (a.End - a.Start); l != 0 {
			return l
		}
		return a.Start - b.Start
	})
	var kept []Span // sorted by Start, non-overlapping
	for _, c := range cands {
		if c.End <= c.Start {
			continue
		}
		i, _ := slices.BinarySearchFunc(kept, c.Start, func(s Span, start int) int { return s.Start - start })
		if i > 0 && kept[i-1].End > c.Start {
			continue
		}
		if i < len(kept) && kept[i].Start < c.End {
			continue
		}
		kept = slices.Insert(kept, i, c)
	}
	return kept
}

func span(t Type, text string, start, end int, score float64, detector string) Span {
	return Span{Type: t, Start: start, End: end, Text: text[start:end], Score: score, Detector: detector}
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func isAlnum(b byte) bool {
	return isDigit(b) || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') || b == '_' || b >= 0x80
}

// before returns up to n bytes of text before i, lower-cased.
func before(text string, i, n int) string {
	return strings.ToLower(text[max(0, i-n):i])
}

// after returns up to n bytes of text after i, lower-cased.
func after(text string, i, n int) string {
	return strings.ToLower(text[i:min(len(text), i+n)])
}

func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// lastWordIn reports whether one of words is the last word (or word
// prefix, for "tel" in "tel.") within ctx.
func containsWord(ctx string, words ...string) bool {
	for _, w := range words {
		for off := 0; ; {
			i := strings.Index(ctx[off:], w)
			if i < 0 {
				break
			}
			i += off
			startOK := i == 0 || !isAlnum(ctx[i-1])
			end := i + len(w)
			endOK := end == len(ctx) || !isLetter(ctx[end])
			if startOK && endOK {
				return true
			}
			off = i + 1
		}
	}
	return false
}

func isLetter(b byte) bool { return ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') || b >= 0x80 }
