package grammar

import (
	"bytes"
	"fmt"
	"sort"
)

// Masker is what a decoder needs from a constraint: the tokens allowed next, a way to
// advance, and whether the output is complete. internal/generate consumes it.
type Masker interface {
	// Allowed sets mask[id] to whether token id may come next; mask has one entry per
	// vocabulary token. Tokens with empty byte strings (EOS and other specials) are
	// never marked; the decoder allows EOS when Done is true.
	Allowed(mask []bool)
	// Accept advances past token id, or returns an error wrapping ErrRejected.
	Accept(id int) error
	// Done reports whether the text so far is a complete value.
	Done() bool
}

var _ Masker = (*Matcher)(nil)

// Grammar is a compiled schema; it is immutable and safe for concurrent use.
type Grammar struct {
	root *node
}

// Vocab is a tokenizer vocabulary prepared for masking: a byte trie of all tokens plus
// per-token tables for the inside of JSON strings. It is immutable and shareable.
type Vocab struct {
	tokens [][]byte

	// trie, flattened: node i has edges [edgeStart[i], edgeStart[i+1]) and tokens
	// [tokStart[i], tokStart[i+1]).
	edgeStart []int32
	edgeByte  []byte
	edgeNode  []int32
	tokStart  []int32
	tokIDs    []int32

	// strTable[p][id] describes plain token id inside a string body with p pending UTF-8
	// continuation bytes: bit 31 = valid, bits 29-30 = pending after, low bits = code
	// points started. Non-plain tokens (quotes, backslashes, control bytes) are listed in
	// special and walked byte by byte.
	strTable [4][]uint32
	special  []int32

	// plainOK[p] is strTable[p]'s valid bits as a mask, copied wholesale when the string
	// has room for any token (maxChars is the most code points one token starts).
	plainOK  [4][]bool
	maxChars uint32
}

const strValid = 1 << 31

// NewVocab prepares tokens (index = token id; the bytes each token decodes to). It sorts
// the tokens and builds the trie in one pass over the sorted list, so a 150k vocabulary
// takes well under a second.
func NewVocab(tokens [][]byte) *Vocab {
	v := &Vocab{tokens: tokens}
	ids := make([]int32, 0, len(tokens))
	for id, t := range tokens {
		if len(t) > 0 {
			ids = append(ids, int32(id))
		}
	}
	sort.Slice(ids, func(a, b int) bool { return bytes.Compare(tokens[ids[a]], tokens[ids[b]]) < 0 })
	type edge struct {
		parent, child int32
		b             byte
	}
	var edges []edge
	tokNode := make([]int32, len(ids)) // trie node where ids[i] ends
	path := []int32{0}                 // nodes along the previous token
	nodes := int32(1)
	var prev []byte
	for i, id := range ids {
		t := tokens[id]
		l := 0
		for l < len(prev) && l < len(t) && prev[l] == t[l] {
			l++
		}
		path = path[:l+1]
		for d := l; d < len(t); d++ {
			edges = append(edges, edge{parent: path[d], child: nodes, b: t[d]})
			path = append(path, nodes)
			nodes++
		}
		tokNode[i] = path[len(t)]
		prev = t
	}
	// Group edges and tokens by node (counting sort keeps each node's edges in byte order).
	v.edgeStart = make([]int32, nodes+1)
	for _, e := range edges {
		v.edgeStart[e.parent+1]++
	}
	for n := int32(0); n < nodes; n++ {
		v.edgeStart[n+1] += v.edgeStart[n]
	}
	v.edgeByte = make([]byte, len(edges))
	v.edgeNode = make([]int32, len(edges))
	fill := append([]int32(nil), v.edgeStart[:nodes]...)
	for _, e := range edges {
		k := fill[e.parent]
		fill[e.parent]++
		v.edgeByte[k], v.edgeNode[k] = e.b, e.child
	}
	v.tokStart = make([]int32, nodes+1)
	for _, n := range tokNode {
		v.tokStart[n+1]++
	}
	for n := int32(0); n < nodes; n++ {
		v.tokStart[n+1] += v.tokStart[n]
	}
	v.tokIDs = make([]int32, len(ids))
	fill = append(fill[:0], v.tokStart[:nodes]...)
	for i, n := range tokNode {
		v.tokIDs[fill[n]] = ids[i]
		fill[n]++
	}

	for p := range v.strTable {
		v.strTable[p] = make([]uint32, len(tokens))
	}
	defer func() {
		for p := range v.plainOK {
			v.plainOK[p] = make([]bool, len(tokens))
			for id, e := range v.strTable[p] {
				v.plainOK[p][id] = e&strValid != 0
			}
		}
	}()
	for id, t := range tokens {
		if len(t) == 0 {
			continue
		}
		plain := true
		for _, b := range t {
			if b == '"' || b == '\\' || b < 0x20 {
				plain = false
				break
			}
		}
		if !plain {
			v.special = append(v.special, int32(id))
			continue
		}
		for p := 0; p < 4; p++ {
			e := plainUTF8(t, p)
			v.strTable[p][id] = e
			v.maxChars = max(v.maxChars, e&(1<<29-1))
		}
	}
	return v
}

// plainUTF8 simulates a plain token inside a string body that expects pend continuation
// bytes first.
func plainUTF8(t []byte, pend int) uint32 {
	chars := uint32(0)
	for _, b := range t {
		if pend > 0 {
			if b&0xC0 != 0x80 {
				return 0
			}
			pend--
			continue
		}
		switch {
		case b < 0x80:
		case b&0xE0 == 0xC0 && b >= 0xC2:
			pend = 1
		case b&0xF0 == 0xE0:
			pend = 2
		case b&0xF8 == 0xF0 && b <= 0xF4:
			pend = 3
		default:
			return 0
		}
		chars++
	}
	return strValid | uint32(pend)<<29 | chars
}

// Len returns the vocabulary size.
func (v *Vocab) Len() int { return len(v.tokens) }

// Matcher tracks one generation against a grammar. It is not safe for concurrent use.
type Matcher struct {
	g     *Grammar
	v     *Vocab
	stack []frame
	bufs  [][]frame // per-depth scratch stacks for the trie walk
}

// NewMatcher starts matching g over vocabulary v.
func (g *Grammar) NewMatcher(v *Vocab) *Matcher {
	m := &Matcher{g: g, v: v}
	m.Reset()
	return m
}

// Reset returns the matcher to the start of the value.
func (m *Matcher) Reset() {
	m.stack = append(m.stack[:0], frame{n: m.g.root})
}

// Done reports whether the text so far is a complete value.
func (m *Matcher) Done() bool { return complete(m.stack) }

// Finished reports whether no further byte can be accepted (the value is closed).
func (m *Matcher) Finished() bool { return len(m.stack) == 0 }

// AcceptBytes advances over raw bytes; on error the matcher is unchanged.
func (m *Matcher) AcceptBytes(b []byte) error {
	st := append([]frame(nil), m.stack...)
	for i, c := range b {
		var ok bool
		if st, ok = step(st, c); !ok {
			return fmt.Errorf("%w: byte %q at offset %d", ErrRejected, c, i)
		}
	}
	m.stack = st
	return nil
}

// Accept advances over token id.
func (m *Matcher) Accept(id int) error {
	if id < 0 || id >= len(m.v.tokens) {
		return fmt.Errorf("%w: token id %d out of range", ErrRejected, id)
	}
	t := m.v.tokens[id]
	if len(t) == 0 {
		return fmt.Errorf("%w: token %d has no bytes", ErrRejected, id)
	}
	if err := m.AcceptBytes(t); err != nil {
		return fmt.Errorf("token %d: %w", id, err)
	}
	return nil
}

// Allowed fills mask with the tokens that may come next.
func (m *Matcher) Allowed(mask []bool) {
	clear(mask)
	if len(m.stack) == 0 {
		return
	}
	top := &m.stack[len(m.stack)-1]
	if top.n.kind == kString && top.st == strBody {
		m.allowedInString(mask, top)
		return
	}
	if cap(m.bufs) == 0 {
		m.bufs = make([][]frame, 0, 64)
	}
	m.walk(mask, 0, m.stack, 0)
}

// walk visits the trie below node with the stack state st (at depth d).
func (m *Matcher) walk(mask []bool, node int32, st []frame, d int) {
	v := m.v
	for d+1 >= len(m.bufs) {
		m.bufs = append(m.bufs, make([]frame, 0, 16))
	}
	for e := v.edgeStart[node]; e < v.edgeStart[node+1]; e++ {
		buf := append(m.bufs[d+1][:0], st...)
		next, ok := step(buf, v.edgeByte[e])
		if !ok {
			continue
		}
		m.bufs[d+1] = next[:0]
		child := v.edgeNode[e]
		for _, id := range v.tokIDs[v.tokStart[child]:v.tokStart[child+1]] {
			if int(id) < len(mask) {
				mask[id] = true
			}
		}
		if v.edgeStart[child] < v.edgeStart[child+1] {
			m.walk(mask, child, next, d+1)
		}
	}
}

// allowedInString decides every token from the string tables, walking only the tokens
// that contain quotes, backslashes or control bytes.
func (m *Matcher) allowedInString(mask []bool, top *frame) {
	v := m.v
	tab := v.strTable[top.pend]
	n := top.n
	limit := uint32(1<<29 - 1)
	if n.maxLen >= 0 {
		if int(top.cnt) > n.maxLen {
			limit = 0
		} else {
			limit = uint32(n.maxLen - int(top.cnt))
		}
	}
	if limit >= v.maxChars {
		copy(mask, v.plainOK[top.pend])
	} else {
		for id, e := range tab {
			if e&strValid != 0 && e&(1<<29-1) <= limit && id < len(mask) {
				mask[id] = true
			}
		}
	}
	buf := make([]frame, 0, len(m.stack)+4)
	for _, id := range v.special {
		if int(id) >= len(mask) {
			continue
		}
		st := append(buf[:0], m.stack...)
		ok := true
		for _, c := range v.tokens[id] {
			if st, ok = step(st, c); !ok {
				break
			}
		}
		if ok {
			mask[id] = true
		}
		buf = st[:0]
	}
}

// TokenSource is what VocabFrom needs from a tokenizer (internal/tokenizer's *Tokenizer
// satisfies it).
type TokenSource interface {
	VocabSize() int
	TokenBytes(id int) []byte
	IsSpecial(id int) bool
}

// VocabFrom builds a Vocab from a tokenizer; special tokens get no bytes, so masks never
// allow them (the decoder adds EOS itself when the matcher is Done).
func VocabFrom(t TokenSource) *Vocab {
	toks := make([][]byte, t.VocabSize())
	for i := range toks {
		if !t.IsSpecial(i) {
			toks[i] = t.TokenBytes(i)
		}
	}
	return NewVocab(toks)
}
