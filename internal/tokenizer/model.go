package tokenizer

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// tok is one model token with its byte range inside the word it came from.
type tok struct {
	id         int32
	start, end int32
}

// model turns one pre-token into tokens.
type model interface {
	tokenize(word string, dst []tok) []tok
	tokenToID(token string) (int, bool)
	idToToken(id int) (string, bool)
	size() int
}

// vocabTable is a token↔id table shared by the models.
type vocabTable struct {
	ids    map[string]int
	tokens []string // by id; "" where an id is unused
	used   []bool
}

func newVocabTable(v map[string]int) (vocabTable, error) {
	maxID := -1
	for tokStr, id := range v {
		if id < 0 {
			return vocabTable{}, fmt.Errorf("%w: negative id %d for %q", ErrFormat, id, tokStr)
		}
		if id > maxID {
			maxID = id
		}
	}
	if maxID >= 1<<24 {
		return vocabTable{}, fmt.Errorf("%w: id %d too large", ErrFormat, maxID)
	}
	vt := vocabTable{ids: v, tokens: make([]string, maxID+1), used: make([]bool, maxID+1)}
	for tokStr, id := range v {
		vt.tokens[id] = tokStr
		vt.used[id] = true
	}
	return vt, nil
}

func (vt *vocabTable) tokenToID(token string) (int, bool) {
	id, ok := vt.ids[token]
	return id, ok
}

func (vt *vocabTable) idToToken(id int) (string, bool) {
	if id < 0 || id >= len(vt.tokens) || !vt.used[id] {
		return "", false
	}
	return vt.tokens[id], true
}

func (vt *vocabTable) size() int { return len(vt.tokens) }

// wordCache remembers the tokens of recent words. It stops growing at
// capacity rather than evicting, as the reference does.
type wordCache struct {
	mu  sync.RWMutex
	m   map[string][]tok
	cap int
}

func newWordCache(capacity int) *wordCache {
	return &wordCache{m: make(map[string][]tok), cap: capacity}
}

func (c *wordCache) get(w string) ([]tok, bool) {
	c.mu.RLock()
	t, ok := c.m[w]
	c.mu.RUnlock()
	return t, ok
}

// put stores a copy of w, so the cache never pins the caller's text.
func (c *wordCache) put(w string, t []tok) {
	c.mu.Lock()
	if len(c.m) < c.cap {
		c.m[strings.Clone(w)] = t
	}
	c.mu.Unlock()
}

// wordPiece is BERT's greedy longest-match-first model.
type wordPiece struct {
	vocabTable
	unk      int
	prefix   string
	maxChars int
	maxLen   int // longest token in bytes, prefix excluded
}

// setMaxLen records the longest token so lookups skip impossible lengths.
func (m *wordPiece) setMaxLen() {
	for t := range m.ids {
		n := len(t)
		if strings.HasPrefix(t, m.prefix) {
			n -= len(m.prefix)
		}
		m.maxLen = max(m.maxLen, n)
	}
}

func (m *wordPiece) tokenize(word string, dst []tok) []tok {
	if word == "" {
		return dst
	}
	if utf8.RuneCountInString(word) > m.maxChars {
		if m.unk >= 0 {
			dst = append(dst, tok{int32(m.unk), 0, int32(len(word))})
		}
		return dst
	}
	mark := len(dst)
	start := 0
	buf := make([]byte, 0, len(m.prefix)+len(word))
	for start < len(word) {
		end := len(word)
		if end-start > m.maxLen {
			end = start + m.maxLen
			for end > start && !utf8.RuneStart(word[end]) {
				end--
			}
		}
		found := -1
		for end > start {
			var id int
			var ok bool
			if start > 0 {
				buf = append(append(buf[:0], m.prefix...), word[start:end]...)
				id, ok = m.ids[string(buf)]
			} else {
				id, ok = m.ids[word[start:end]]
			}
			if ok {
				found = id
				break
			}
			_, sz := utf8.DecodeLastRuneInString(word[start:end])
			end -= sz
		}
		if found < 0 {
			dst = dst[:mark]
			if m.unk >= 0 {
				dst = append(dst, tok{int32(m.unk), 0, int32(len(word))})
			}
			return dst
		}
		dst = append(dst, tok{int32(found), int32(start), int32(end)})
		start = end
	}
	return dst
}
