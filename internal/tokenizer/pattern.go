package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// matcher finds the non-overlapping matches of a pattern, as byte ranges.
type matcher interface {
	findAll(s string) [][2]int
}

func compilePattern(p *patternJSON) (matcher, error) {
	switch {
	case p == nil:
		return nil, fmt.Errorf("%w: missing pattern", ErrFormat)
	case p.String != nil:
		return literalMatcher(*p.String), nil
	case p.Regex != nil:
		return compileRegex(*p.Regex)
	default:
		return nil, fmt.Errorf("%w: pattern needs String or Regex", ErrFormat)
	}
}

type literalMatcher string

func (l literalMatcher) findAll(s string) [][2]int {
	if l == "" {
		return nil
	}
	var out [][2]int
	for i := 0; ; {
		k := strings.Index(s[i:], string(l))
		if k < 0 {
			return out
		}
		out = append(out, [2]int{i + k, i + k + len(l)})
		i += k + len(l)
	}
}

// regexMatcher runs a pattern with lookaround through regexp2, which reports
// positions in runes; findAll converts them to bytes.
type regexMatcher struct{ re *regexp2.Regexp }

func compileRegex(pat string) (matcher, error) {
	if m := knownScanner(pat); m != nil {
		return m, nil
	}
	re, err := regexp2.Compile(pat, regexp2.Unicode)
	if err != nil {
		return nil, fmt.Errorf("%w: regex %q: %v", ErrFormat, pat, err)
	}
	return regexMatcher{re}, nil
}

func (m regexMatcher) findAll(s string) [][2]int {
	if s == "" {
		return nil
	}
	var out [][2]int
	runes := []rune(s)
	// byte offset of each rune index, advanced monotonically
	ri, bi := 0, 0
	toByte := func(r int) int {
		for ri < r {
			_, sz := utf8.DecodeRuneInString(s[bi:])
			bi += sz
			ri++
		}
		return bi
	}
	match, err := m.re.FindRunesMatch(runes)
	for err == nil && match != nil {
		if match.Length > 0 {
			start := toByte(match.Index)
			end := toByte(match.Index + match.Length)
			out = append(out, [2]int{start, end})
		}
		match, err = m.re.FindNextMatch(match)
	}
	return out
}

// funcMatcher matches every character for which f is true, one by one.
type funcMatcher func(r rune) bool

func (f funcMatcher) findAll(s string) [][2]int {
	var out [][2]int
	for i, r := range s {
		if f(r) {
			out = append(out, [2]int{i, i + utf8.RuneLen(r)})
		}
	}
	return out
}

// splitBehavior is what Split does with the matched pieces.
type splitBehavior int

const (
	behRemoved splitBehavior = iota
	behIsolated
	behMergedWithPrevious
	behMergedWithNext
	behContiguous
)

func parseBehavior(s string) (splitBehavior, error) {
	switch s {
	case "Removed":
		return behRemoved, nil
	case "Isolated", "":
		return behIsolated, nil
	case "MergedWithPrevious":
		return behMergedWithPrevious, nil
	case "MergedWithNext":
		return behMergedWithNext, nil
	case "Contiguous":
		return behContiguous, nil
	}
	return 0, fmt.Errorf("%w: split behavior %q", ErrFormat, s)
}

type segment struct {
	start, end int
	match      bool
}

// splitSpan cuts sp at the matches of m as the reference's split does.
func splitSpan(sp span, m matcher, beh splitBehavior, invert bool, out []span) []span {
	s := sp.s
	if s == "" {
		return out
	}
	if f, ok := m.(funcMatcher); ok && !invert && (beh == behRemoved || beh == behIsolated) {
		return splitFunc(sp, f, beh == behIsolated, out)
	}
	ms := m.findAll(s)
	if len(ms) == 0 {
		if invert && beh == behRemoved {
			return out
		}
		return append(out, sp)
	}
	segs := make([]segment, 0, 2*len(ms)+1)
	prev := 0
	for _, r := range ms {
		if r[0] > prev {
			segs = append(segs, segment{prev, r[0], invert})
		}
		segs = append(segs, segment{r[0], r[1], !invert})
		prev = r[1]
	}
	if prev < len(s) {
		segs = append(segs, segment{prev, len(s), invert})
	}
	var res []segment
	switch beh {
	case behRemoved:
		for _, g := range segs {
			if !g.match {
				res = append(res, g)
			}
		}
	case behIsolated:
		res = segs
	case behMergedWithPrevious:
		pm := false
		for _, g := range segs {
			if g.match && !pm && len(res) > 0 {
				res[len(res)-1].end = g.end
			} else {
				res = append(res, g)
			}
			pm = g.match
		}
	case behMergedWithNext:
		pm := false
		for i := len(segs) - 1; i >= 0; i-- {
			g := segs[i]
			if g.match && !pm && len(res) > 0 {
				res[len(res)-1].start = g.start
			} else {
				res = append(res, g)
			}
			pm = g.match
		}
		for i, j := 0, len(res)-1; i < j; i, j = i+1, j-1 {
			res[i], res[j] = res[j], res[i]
		}
	case behContiguous:
		pm := false
		for _, g := range segs {
			if g.match == pm && len(res) > 0 {
				res[len(res)-1].end = g.end
			} else {
				res = append(res, g)
			}
			pm = g.match
		}
	}
	for _, g := range res {
		if g.end > g.start {
			out = append(out, sp.sub(g.start, g.end))
		}
	}
	return out
}

// splitFunc is splitSpan for a character predicate with the Removed or
// Isolated behavior, without building the match list.
func splitFunc(sp span, f funcMatcher, keep bool, out []span) []span {
	s := sp.s
	start := 0
	for i := 0; i < len(s); {
		r, sz := at(s, i)
		if !f(r) {
			i += sz
			continue
		}
		if i > start {
			out = append(out, sp.sub(start, i))
		}
		if keep {
			out = append(out, sp.sub(i, i+sz))
		}
		i += sz
		start = i
	}
	if start < len(s) {
		out = append(out, sp.sub(start, len(s)))
	}
	return out
}
