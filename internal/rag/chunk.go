package rag

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
)

// ChunkConfig bounds chunks in tokens (as the count function measures them).
type ChunkConfig struct {
	ChildTokens  int `json:"child_tokens,omitempty"`  // matched chunks; default 128
	ParentTokens int `json:"parent_tokens,omitempty"` // returned context; default 512
	Overlap      int `json:"overlap,omitempty"`       // tokens repeated between neighbouring children; default 16
}

func (c ChunkConfig) withDefaults() ChunkConfig {
	if c.ChildTokens <= 0 {
		c.ChildTokens = 128
	}
	if c.ParentTokens <= 0 {
		c.ParentTokens = 512
	}
	if c.ParentTokens < c.ChildTokens {
		c.ParentTokens = c.ChildTokens
	}
	if c.Overlap < 0 || c.Overlap >= c.ChildTokens {
		c.Overlap = 0
	} else if c.Overlap == 0 {
		c.Overlap = 16
	}
	return c
}

// Section is a heading-delimited span of a document's text.
type Section struct {
	Path       []string `json:"path"`
	Start, End int      // byte offsets
}

// Span is a piece of text with its byte range in the document.
type Span struct {
	Start, End int
	Path       []string
}

// Chunk is one matched unit: a child span inside a parent span.
type Chunk struct {
	ID          string
	DocID       string
	Start, End  int // byte span of the child in the document text
	ParentStart int
	ParentEnd   int
	SectionPath []string
}

// ApproxTokens estimates a text's token count without a tokenizer (words ×
// 1.3, as subword tokenizers average on English).
func ApproxTokens(s string) int {
	n := len(strings.Fields(s))
	return (n*13 + 9) / 10
}

// ChunkDocument splits text into parents (sections, split at paragraph
// boundaries when longer than ParentTokens) and children (sentences packed
// up to ChildTokens with Overlap). Chunk ids are derived from the document id
// and the span, so re-chunking the same text gives the same ids.
func ChunkDocument(docID, text string, sections []Section, cfg ChunkConfig, count func(string) int) []Chunk {
	cfg = cfg.withDefaults()
	if count == nil {
		count = ApproxTokens
	}
	if len(sections) == 0 {
		sections = []Section{{Start: 0, End: len(text)}}
	}
	var out []Chunk
	for i, sec := range sections {
		if sec.Start < 0 || sec.End > len(text) || sec.Start >= sec.End {
			continue
		}
		if i+1 < len(sections) && headingOnly(text[sec.Start:sec.End], sec.Path) && hasPrefix(sections[i+1].Path, sec.Path) {
			// The body is in the subsections, whose paths (indexed with
			// every child) carry this heading: a chunk holding only the
			// heading would match its words and cite nothing.
			continue
		}
		// A paragraph over the parent budget (a long table or list) is
		// cut between its lines, not mid-row; one long line is still cut
		// between words.
		var paras []Span
		for _, p := range units(text, sec.Start, sec.End, paragraphBreaks) {
			if count(text[p.Start:p.End]) > cfg.ParentTokens {
				paras = append(paras, units(text, p.Start, p.End, lineBreaks)...)
				continue
			}
			paras = append(paras, p)
		}
		for _, parent := range packUnits(text, paras, cfg.ParentTokens, 0, count) {
			sents := units(text, parent.Start, parent.End, sentenceBreaks)
			for _, child := range packUnits(text, sents, cfg.ChildTokens, cfg.Overlap, count) {
				if strings.TrimSpace(text[child.Start:child.End]) == "" {
					continue
				}
				out = append(out, Chunk{ID: chunkID(docID, child.Start, child.End), DocID: docID, Start: child.Start, End: child.End,
					ParentStart: parent.Start, ParentEnd: parent.End, SectionPath: sec.Path})
			}
		}
	}
	return out
}

// headingOnly reports whether a section's text is just its own heading.
func headingOnly(s string, path []string) bool {
	if len(path) == 0 {
		return false
	}
	s = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(s), "#"))
	return s == strings.TrimSpace(path[len(path)-1])
}

// hasPrefix reports whether path starts with prefix (and is longer).
func hasPrefix(path, prefix []string) bool {
	if len(path) <= len(prefix) {
		return false
	}
	for i := range prefix {
		if path[i] != prefix[i] {
			return false
		}
	}
	return true
}

func chunkID(doc string, s, e int) string {
	h := sha256.Sum256([]byte(doc + "\x00" + itoa(s) + ":" + itoa(e)))
	return "chk_" + hex.EncodeToString(h[:10])
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	neg := i < 0
	if neg {
		i = -i
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}

// units splits text[start:end] at the positions breaks reports, trimming
// surrounding whitespace from each unit.
func units(text string, start, end int, breaks func(string) []int) []Span {
	seg := text[start:end]
	cuts := append(breaks(seg), len(seg))
	var out []Span
	prev := 0
	for _, c := range cuts {
		s, e := prev, c
		for s < e && unicode.IsSpace(rune(seg[s])) {
			s++
		}
		for e > s && unicode.IsSpace(rune(seg[e-1])) {
			e--
		}
		if e > s {
			out = append(out, Span{Start: start + s, End: start + e})
		}
		prev = c
	}
	return out
}

// paragraphBreaks cuts at blank lines.
func paragraphBreaks(s string) []int {
	var out []int
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\n' && s[i+1] == '\n' {
			out = append(out, i+1)
			for i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		}
	}
	return out
}

// lineBreaks cuts after every newline.
func lineBreaks(s string) []int {
	var out []int
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, i+1)
		}
	}
	return out
}

// sentenceBreaks cuts after sentence-final punctuation followed by space and
// an upper-case letter or digit, and at every newline (lists, table rows).
func sentenceBreaks(s string) []int {
	var out []int
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n':
			out = append(out, i+1)
		case '.', '!', '?':
			j := i + 1
			if j < len(s) && s[j] == ' ' {
				k := j
				for k < len(s) && s[k] == ' ' {
					k++
				}
				if k < len(s) && (unicode.IsUpper(rune(s[k])) || unicode.IsDigit(rune(s[k])) || s[k] >= 0x80) {
					out = append(out, j)
				}
			}
		}
	}
	return out
}

// packUnits greedily groups consecutive units into spans of at most budget
// tokens (a single longer unit is cut at word boundaries), repeating up to
// overlap tokens of trailing units at the start of the next span.
func packUnits(text string, us []Span, budget, overlap int, count func(string) int) []Span {
	var flat []Span
	for _, u := range us {
		if count(text[u.Start:u.End]) <= budget {
			flat = append(flat, u)
			continue
		}
		flat = append(flat, splitWords(text, u, budget, count)...)
	}
	var out []Span
	i := 0
	for i < len(flat) {
		j, tokens := i, 0
		for j < len(flat) {
			t := count(text[flat[j].Start:flat[j].End])
			if j > i && tokens+t > budget {
				break
			}
			tokens += t
			j++
		}
		out = append(out, Span{Start: flat[i].Start, End: flat[j-1].End})
		if j >= len(flat) {
			break
		}
		next := j
		if overlap > 0 {
			back := 0
			for k := j - 1; k > i; k-- {
				back += count(text[flat[k].Start:flat[k].End])
				if back > overlap {
					break
				}
				next = k
			}
		}
		i = next
	}
	return out
}

func splitWords(text string, u Span, budget int, count func(string) int) []Span {
	var out []Span
	start := u.Start
	last := u.Start
	for i := u.Start; i <= u.End; i++ {
		if i < u.End && !unicode.IsSpace(rune(text[i])) {
			continue
		}
		if count(text[start:i]) > budget && last > start {
			out = append(out, Span{Start: start, End: last})
			start = last
			for start < u.End && unicode.IsSpace(rune(text[start])) {
				start++
			}
		}
		last = i
	}
	if start < u.End {
		out = append(out, Span{Start: start, End: u.End})
	}
	return out
}
