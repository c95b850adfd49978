package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Pre-tokenizer patterns of well-known tokenizers, which have hand-written
// scanners that match exactly what the regex engine matches, many times
// faster. TestScannersMatchRegex holds them to that.
const (
	llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	qwen2Pattern  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// knownScanner returns a hand-written scanner for a well-known pre-tokenizer
// pattern, or nil to use the regex engine.
func knownScanner(pat string) matcher {
	switch pat {
	case llama3Pattern:
		return scanner{digits: 3, fold: true, llama: true}
	case qwen2Pattern:
		return scanner{digits: 1, fold: true, llama: true}
	case gpt2Pattern:
		return scanner{}
	}
	return nil
}

// scanner matches the GPT-2 pattern (llama false) or the Llama 3 / Qwen 2
// family (llama true; digits is the longest run of numbers in one match,
// fold makes the contractions ASCII case-insensitive).
type scanner struct {
	digits int
	fold   bool
	llama  bool
}

func isL(r rune) bool     { return unicode.IsLetter(r) }
func isN(r rune) bool     { return unicode.IsNumber(r) }
func isS(r rune) bool     { return unicode.IsSpace(r) }
func isOther(r rune) bool { return !isS(r) && !isL(r) && !isN(r) }
func isNL(r rune) bool    { return r == '\r' || r == '\n' }

func at(s string, i int) (rune, int) {
	if i >= len(s) {
		return -1, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

// contraction returns the length of 's 't 're 've 'm 'll 'd at i, or 0.
func (sc scanner) contraction(s string, i int) int {
	if i >= len(s) || s[i] != '\'' {
		return 0
	}
	get := func(k int) byte {
		if i+k >= len(s) {
			return 0
		}
		if sc.fold {
			return lower(s[i+k])
		}
		return s[i+k]
	}
	switch c1 := get(1); c1 {
	case 's', 't', 'm', 'd':
		return 2
	case 'r', 'v':
		if get(2) == 'e' {
			return 3
		}
	case 'l':
		if get(2) == 'l' {
			return 3
		}
	}
	return 0
}

// run returns the end of the run of characters satisfying f from i.
func run(s string, i int, f func(rune) bool) int {
	for i < len(s) {
		r, sz := at(s, i)
		if !f(r) {
			break
		}
		i += sz
	}
	return i
}

// runN is run limited to n characters.
func runN(s string, i, n int, f func(rune) bool) int {
	for k := 0; k < n && i < len(s); k++ {
		r, sz := at(s, i)
		if !f(r) {
			break
		}
		i += sz
	}
	return i
}

// next returns the end of the match starting at i.
func (sc scanner) next(s string, i int) int {
	if n := sc.contraction(s, i); n > 0 {
		return i + n
	}
	r, sz := at(s, i)
	r2, sz2 := at(s, i+sz)
	if sc.llama {
		// [^\r\n\p{L}\p{N}]?\p{L}+
		if isL(r) {
			return run(s, i+sz, isL)
		}
		if !isNL(r) && !isN(r) && isL(r2) {
			return run(s, i+sz+sz2, isL)
		}
		// \p{N}{1,digits}
		if isN(r) {
			return runN(s, i, sc.digits, isN)
		}
		// ' '?[^\s\p{L}\p{N}]+[\r\n]*
		if r == ' ' && r2 >= 0 && isOther(r2) {
			return run(s, run(s, i+sz, isOther), isNL)
		}
		if isOther(r) {
			return run(s, run(s, i, isOther), isNL)
		}
	} else {
		start := i
		if r == ' ' && r2 >= 0 {
			start, r = i+sz, r2
		}
		switch {
		case isL(r):
			return run(s, start, isL)
		case isN(r):
			return run(s, start, isN)
		case isOther(r):
			return run(s, start, isOther)
		}
	}
	// r is white space.
	e := run(s, i, isS)
	if sc.llama {
		// \s*[\r\n]+ : up to the last line break of the run
		last := -1
		for k := i; k < e; {
			c, n := at(s, k)
			if isNL(c) {
				last = k + n
			}
			k += n
		}
		if last > 0 {
			return last
		}
	}
	// \s+(?!\S) then \s+
	if e == len(s) {
		return e
	}
	_, lsz := utf8.DecodeLastRuneInString(s[:e])
	if e-lsz > i {
		return e - lsz
	}
	return e
}

func (sc scanner) findAll(s string) [][2]int {
	out := make([][2]int, 0, len(s)/4+1)
	for i := 0; i < len(s); {
		e := sc.next(s, i)
		if e <= i {
			_, sz := at(s, i)
			e = i + max(sz, 1)
		}
		out = append(out, [2]int{i, e})
		i = e
	}
	return out
}
