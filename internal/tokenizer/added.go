package tokenizer

import (
	"encoding/json"
	"sort"
	"unicode"
	"unicode/utf8"
)

// AddedToken is an entry of tokenizer.json's added_tokens. Special tokens
// are dropped by Decode with skipSpecial; Normalized tokens are matched on
// normalized text (it defaults to !Special when the file leaves it out).
type AddedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// UnmarshalJSON applies the reference's default for a missing "normalized".
func (a *AddedToken) UnmarshalJSON(b []byte) error {
	type plain AddedToken
	var v struct {
		plain
		Normalized *bool `json:"normalized"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*a = AddedToken(v.plain)
	a.Normalized = !a.Special
	if v.Normalized != nil {
		a.Normalized = *v.Normalized
	}
	return nil
}

// addedMatcher finds added tokens in text, leftmost-longest, as the
// reference's Aho-Corasick split does.
type addedMatcher struct {
	byFirst [256][]matchEntry // candidates by first byte, longest first
}

type matchEntry struct {
	text string
	tok  *AddedToken
}

func newAddedMatcher(entries []matchEntry) *addedMatcher {
	if len(entries) == 0 {
		return nil
	}
	m := &addedMatcher{}
	for _, e := range entries {
		if e.text == "" {
			continue
		}
		m.byFirst[e.text[0]] = append(m.byFirst[e.text[0]], e)
	}
	for i := range m.byFirst {
		c := m.byFirst[i]
		sort.SliceStable(c, func(a, b int) bool { return len(c[a].text) > len(c[b].text) })
	}
	return m
}

// piece is a run of text or a matched added token.
type piece struct {
	start, end int
	id         int // -1 for text
}

func isWordChar(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.M, r)
}

// split cuts s into text pieces and added-token pieces.
func (m *addedMatcher) split(s string, out []piece) []piece {
	if m == nil {
		if s != "" {
			out = append(out, piece{0, len(s), -1})
		}
		return out
	}
	last := 0 // end of the last emitted piece
	for i := 0; i < len(s); {
		var hit *matchEntry
		for k := range m.byFirst[s[i]] {
			e := &m.byFirst[s[i]][k]
			if len(s)-i >= len(e.text) && s[i:i+len(e.text)] == e.text {
				hit = e
				break
			}
		}
		if hit == nil {
			i++
			continue
		}
		start, stop := i, i+len(hit.text)
		t := hit.tok
		if t.SingleWord {
			before, _ := utf8.DecodeLastRuneInString(s[:start])
			after, _ := utf8.DecodeRuneInString(s[stop:])
			if (start > 0 && isWordChar(before)) || (stop < len(s) && isWordChar(after)) {
				i = stop
				continue
			}
		}
		if t.LStrip {
			j := start
			for j > last {
				r, sz := utf8.DecodeLastRuneInString(s[:j])
				if !unicode.IsSpace(r) {
					break
				}
				j -= sz
			}
			start = j
		}
		if t.RStrip {
			for stop < len(s) {
				r, sz := utf8.DecodeRuneInString(s[stop:])
				if !unicode.IsSpace(r) {
					break
				}
				stop += sz
			}
		}
		if start > last {
			out = append(out, piece{last, start, -1})
		}
		out = append(out, piece{start, stop, t.ID})
		last = stop
		i = stop
	}
	if last < len(s) {
		out = append(out, piece{last, len(s), -1})
	}
	return out
}
