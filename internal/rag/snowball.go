package rag

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Helpers shared by the Snowball stemmers (snowball_*.go). Each stemmer works
// on a lowercased word as a []rune, in place where it can, following the
// published algorithm descriptions at snowballstem.org: regions R1, R2 (and
// RV for the Romance languages) are rune offsets into the word, and a suffix
// list behaves like Snowball's "among": the longest matching suffix wins.

// suffixList is a Snowball "among" over suffixes, indexed by last rune so a
// lookup only compares the candidates that can match.
type suffixList struct {
	byLast map[rune][]suffix // each bucket longest first
}

type suffix struct {
	r []rune
	s string
}

func newSuffixList(words string) *suffixList {
	l := &suffixList{byLast: map[rune][]suffix{}}
	for _, s := range strings.Fields(words) {
		r := []rune(s)
		last := r[len(r)-1]
		l.byLast[last] = append(l.byLast[last], suffix{r, s})
	}
	for _, b := range l.byLast {
		sort.SliceStable(b, func(i, j int) bool { return len(b[i].r) > len(b[j].r) })
	}
	return l
}

// find returns the longest suffix of w in the list that starts at or after
// limit (Snowball's setlimit), or "" when none does.
func (l *suffixList) find(w []rune, limit int) string {
	if len(w) == 0 {
		return ""
	}
	for _, s := range l.byLast[w[len(w)-1]] {
		if len(w)-len(s.r) >= limit && hasRunes(w, s.r) {
			return s.s
		}
	}
	return ""
}

// hasRunes reports whether w ends with s.
func hasRunes(w, s []rune) bool {
	if len(s) > len(w) {
		return false
	}
	off := len(w) - len(s)
	for i, r := range s {
		if w[off+i] != r {
			return false
		}
	}
	return true
}

// ends reports whether w ends with the string s.
func ends(w []rune, s string) bool {
	i := len(w)
	for j := len(s); j > 0; {
		r, size := rune(s[j-1]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeLastRuneInString(s[:j])
		}
		j -= size
		i--
		if i < 0 || w[i] != r {
			return false
		}
	}
	return true
}

// endsAt reports whether w[:end] ends with s.
func endsAt(w []rune, end int, s string) bool { return end >= 0 && end <= len(w) && ends(w[:end], s) }

// runeLen is the length of s in runes.
func runeLen(s string) int {
	n := 0
	for range s {
		n++
	}
	return n
}

// replaceSuffix swaps the last n runes of w for rep.
func replaceSuffix(w []rune, n int, rep string) []rune {
	w = w[:len(w)-n]
	for _, r := range rep {
		w = append(w, r)
	}
	return w
}

// regionAfterVC is Snowball's "gopast v gopast non-v" from start: the
// position after the first non-vowel that follows a vowel, or len(w).
func regionAfterVC(w []rune, start int, vowel func(rune) bool) int {
	i := start
	for i < len(w) && !vowel(w[i]) {
		i++
	}
	for i < len(w) && vowel(w[i]) {
		i++
	}
	if i < len(w) {
		return i + 1
	}
	return len(w)
}

// standardRegions returns R1 and R2.
func standardRegions(w []rune, vowel func(rune) bool) (r1, r2 int) {
	r1 = regionAfterVC(w, 0, vowel)
	return r1, regionAfterVC(w, r1, vowel)
}

// stemWith runs a []rune stemmer over a string.
func stemWith(word string, f func([]rune) []rune) string {
	if word == "" {
		return word
	}
	return string(f([]rune(word)))
}
