package tokenizer

import (
	"fmt"
	"unicode/utf8"
)

// mergeInfo is the rank of a merge and the id of the token it makes.
type mergeInfo struct {
	rank int32
	id   int32
}

// bpe is the byte-pair-encoding model. In byte-level mode (set when the
// pipeline has a ByteLevel pre-tokenizer) words arrive as raw bytes and each
// byte starts as the token of its GPT-2 byte character.
type bpe struct {
	vocabTable
	merges       map[uint64]mergeInfo
	unk          int
	unkToken     string
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	prefix       string
	suffix       string

	byteLevel bool
	byteIDs   [256]int32 // byte-level: id of each byte's character, -1 if absent
	fallback  [256]int32 // byte fallback: id of <0xXX>, -1 if absent
	cache     *wordCache
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// bpeOptions are the model settings of tokenizer.json.
type bpeOptions struct {
	unkToken     string
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	prefix       string
	suffix       string
}

func newBPE(vocab map[string]int, merges [][2]string, o bpeOptions) (*bpe, error) {
	vt, err := newVocabTable(vocab)
	if err != nil {
		return nil, err
	}
	m := &bpe{
		vocabTable:   vt,
		merges:       make(map[uint64]mergeInfo, len(merges)),
		unk:          -1,
		unkToken:     o.unkToken,
		fuseUnk:      o.fuseUnk,
		byteFallback: o.byteFallback,
		ignoreMerges: o.ignoreMerges,
		prefix:       o.prefix,
		suffix:       o.suffix,
		cache:        newWordCache(1 << 16),
	}
	if o.unkToken != "" {
		if id, ok := vocab[o.unkToken]; ok {
			m.unk = id
		}
	}
	for i, p := range merges {
		a, okA := vocab[p[0]]
		b, okB := vocab[p[1]]
		if !okA || !okB {
			return nil, fmt.Errorf("%w: merge %d (%q %q) uses a token not in the vocabulary", ErrFormat, i, p[0], p[1])
		}
		right := p[1]
		if len(m.prefix) > 0 && len(right) >= len(m.prefix) && right[:len(m.prefix)] == m.prefix {
			right = right[len(m.prefix):]
		}
		id, ok := vocab[p[0]+right]
		if !ok {
			return nil, fmt.Errorf("%w: merge %d (%q %q) makes a token not in the vocabulary", ErrFormat, i, p[0], p[1])
		}
		k := pairKey(int32(a), int32(b))
		if _, dup := m.merges[k]; !dup {
			m.merges[k] = mergeInfo{rank: int32(i), id: int32(id)}
		}
	}
	for b := range 256 {
		m.fallback[b] = -1
		if id, ok := vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.fallback[b] = int32(id)
		}
	}
	return m, nil
}

// setByteLevel switches the model to raw-byte input.
func (m *bpe) setByteLevel() {
	m.byteLevel = true
	for b := range 256 {
		m.byteIDs[b] = -1
		if id, ok := m.ids[string(byteToRune[b])]; ok {
			m.byteIDs[b] = int32(id)
		}
	}
}

// sym is one symbol of a word being merged, in a linked list over a slice.
type sym struct {
	id         int32
	prev, next int32
	start, end int32
}

// mergeItem is a candidate merge of the symbol at pos with its successor.
type mergeItem struct {
	rank, pos, id int32
}

// mergeHeap is a binary min-heap ordered by rank, then position.
type mergeHeap []mergeItem

func (h mergeHeap) less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].pos < h[j].pos
}

func (h *mergeHeap) push(it mergeItem) {
	*h = append(*h, it)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *mergeHeap) pop() mergeItem {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

func (m *bpe) tokenize(word string, dst []tok) []tok {
	if word == "" {
		return dst
	}
	if t, ok := m.cache.get(word); ok {
		return append(dst, t...)
	}
	if m.ignoreMerges {
		var id int
		var ok bool
		if m.byteLevel {
			id, ok = m.ids[byteLevelEncode(word)]
		} else {
			id, ok = m.ids[word]
		}
		if ok {
			t := []tok{{int32(id), 0, int32(len(word))}}
			m.cache.put(word, t)
			return append(dst, t...)
		}
	}
	syms := m.initial(word)
	syms = m.merge(syms)
	t := make([]tok, 0, len(syms))
	for i := int32(0); i >= 0 && int(i) < len(syms); i = syms[i].next {
		t = append(t, tok{syms[i].id, syms[i].start, syms[i].end})
	}
	if len(word) < 256 {
		m.cache.put(word, t)
	}
	return append(dst, t...)
}

// initial splits a word into its starting symbols.
func (m *bpe) initial(word string) []sym {
	syms := make([]sym, 0, len(word))
	pushUnk := func(start, end int) {
		if m.unk < 0 {
			return
		}
		if m.fuseUnk && len(syms) > 0 && syms[len(syms)-1].id == int32(m.unk) {
			syms[len(syms)-1].end = int32(end)
			return
		}
		syms = append(syms, sym{id: int32(m.unk), start: int32(start), end: int32(end)})
	}
	if m.byteLevel {
		for i := 0; i < len(word); i++ {
			if id := m.byteIDs[word[i]]; id >= 0 {
				syms = append(syms, sym{id: id, start: int32(i), end: int32(i + 1)})
			} else {
				pushUnk(i, i+1)
			}
		}
	} else {
		for i := 0; i < len(word); {
			_, sz := utf8.DecodeRuneInString(word[i:])
			s := word[i : i+sz]
			if m.prefix != "" && i > 0 {
				s = m.prefix + s
			}
			if m.suffix != "" && i+sz == len(word) {
				s += m.suffix
			}
			if id, ok := m.ids[s]; ok {
				syms = append(syms, sym{id: int32(id), start: int32(i), end: int32(i + sz)})
			} else if m.byteFallback && m.allFallback(word[i:i+sz]) {
				for k := i; k < i+sz; k++ {
					syms = append(syms, sym{id: m.fallback[word[k]], start: int32(k), end: int32(k + 1)})
				}
			} else {
				pushUnk(i, i+sz)
			}
			i += sz
		}
	}
	for i := range syms {
		syms[i].prev = int32(i - 1)
		syms[i].next = int32(i + 1)
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	return syms
}

func (m *bpe) allFallback(s string) bool {
	for i := 0; i < len(s); i++ {
		if m.fallback[s[i]] < 0 {
			return false
		}
	}
	return true
}

// merge applies merges lowest rank first until none applies.
func (m *bpe) merge(syms []sym) []sym {
	if len(syms) < 2 {
		return syms
	}
	h := make(mergeHeap, 0, len(syms))
	for i := 0; i+1 < len(syms); i++ {
		if mi, ok := m.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			h.push(mergeItem{mi.rank, int32(i), mi.id})
		}
	}
	for len(h) > 0 {
		top := h.pop()
		s := &syms[top.pos]
		if s.id < 0 || s.next < 0 {
			continue
		}
		r := &syms[s.next]
		mi, ok := m.merges[pairKey(s.id, r.id)]
		if !ok || mi.id != top.id {
			continue
		}
		s.id = top.id
		s.end = r.end
		r.id = -1
		s.next = r.next
		if s.next >= 0 {
			syms[s.next].prev = top.pos
		}
		if s.prev >= 0 {
			p := &syms[s.prev]
			if mi, ok := m.merges[pairKey(p.id, s.id)]; ok {
				h.push(mergeItem{mi.rank, s.prev, mi.id})
			}
		}
		if s.next >= 0 {
			if mi, ok := m.merges[pairKey(s.id, syms[s.next].id)]; ok {
				h.push(mergeItem{mi.rank, top.pos, mi.id})
			}
		}
	}
	return syms
}
