package tokenizer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sort"
)

// TrainOptions configures Train.
type TrainOptions struct {
	// VocabSize is the size of the vocabulary to learn, counting the 256
	// byte tokens and the special tokens.
	VocabSize int
	// MinFrequency stops training when the most frequent pair occurs fewer
	// times than this (0 or 1: no limit).
	MinFrequency int
	// SpecialTokens get the first ids, in order, and are matched whole in text.
	SpecialTokens []string
	// ByteLevel must be true: the trainer learns GPT-2 style byte-level BPE.
	ByteLevel bool
	// Pattern is the pre-tokenizer regex; empty means the Llama 3 pattern.
	Pattern string
}

// ErrTrain reports bad training options.
var ErrTrain = errors.New("tokenizer: invalid training options")

// Train learns a byte-level BPE tokenizer from corpus: words are split with
// the pre-tokenizer pattern, every byte is a starting token, and the most
// frequent adjacent pair is merged until the vocabulary is full. Pair counts
// are updated incrementally, so each merge costs only the words it touches.
// The result can be saved as a tokenizer.json that the reference loads.
func Train(ctx context.Context, corpus iter.Seq[string], o TrainOptions) (*Tokenizer, error) {
	if !o.ByteLevel {
		return nil, fmt.Errorf("%w: only byte-level BPE training is supported (set ByteLevel)", ErrTrain)
	}
	if o.Pattern == "" {
		o.Pattern = llama3Pattern
	}
	minVocab := 256 + len(o.SpecialTokens)
	if o.VocabSize < minVocab {
		return nil, fmt.Errorf("%w: vocab size %d is smaller than 256 bytes + %d special tokens", ErrTrain, o.VocabSize, len(o.SpecialTokens))
	}
	seen := map[string]bool{}
	for _, s := range o.SpecialTokens {
		if s == "" || seen[s] {
			return nil, fmt.Errorf("%w: special token %q empty or repeated", ErrTrain, s)
		}
		seen[s] = true
	}
	split, err := compileRegex(o.Pattern)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	var specials *addedMatcher
	if len(o.SpecialTokens) > 0 {
		entries := make([]matchEntry, len(o.SpecialTokens))
		for i, s := range o.SpecialTokens {
			entries[i] = matchEntry{s, &AddedToken{ID: i, Content: s, Special: true}}
		}
		specials = newAddedMatcher(entries)
	}

	// Count words.
	counts := map[string]int64{}
	n := 0
	for text := range corpus {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		for _, p := range specials.split(text, nil) {
			if p.id >= 0 {
				continue
			}
			seg := text[p.start:p.end]
			for _, m := range split.findAll(seg) {
				counts[seg[m[0]:m[1]]]++
			}
		}
	}

	// Token table: specials, then the byte alphabet in character order.
	tokens := append([]string(nil), o.SpecialTokens...)
	alphabet := make([]string, 256)
	for b := range 256 {
		alphabet[b] = string(byteToRune[b])
	}
	sort.Strings(alphabet)
	var byteID [256]int32
	for _, a := range alphabet {
		byteID[runeToByte[[]rune(a)[0]]] = int32(len(tokens))
		tokens = append(tokens, a)
	}

	tokenID := make(map[string]int32, o.VocabSize)
	for i, t := range tokens {
		if _, dup := tokenID[t]; dup {
			return nil, fmt.Errorf("%w: special token %q is also a byte token", ErrTrain, t)
		}
		tokenID[t] = int32(i)
	}

	// Words in a fixed order so training is deterministic.
	keys := make([]string, 0, len(counts))
	for w := range counts {
		keys = append(keys, w)
	}
	sort.Strings(keys)
	words := make([][]int32, len(keys))
	freq := make([]int64, len(keys))
	pairs := map[uint64]int64{}
	where := map[uint64][]int32{}
	for wi, w := range keys {
		syms := make([]int32, len(w))
		for i := 0; i < len(w); i++ {
			syms[i] = byteID[w[i]]
		}
		words[wi], freq[wi] = syms, counts[w]
		for i := 0; i+1 < len(syms); i++ {
			k := pairKey(syms[i], syms[i+1])
			pairs[k] += freq[wi]
			if l := where[k]; len(l) == 0 || l[len(l)-1] != int32(wi) {
				where[k] = append(l, int32(wi))
			}
		}
	}
	h := &countHeap{}
	for k, c := range pairs {
		h.push(pairCount{k, c})
	}

	minFreq := int64(max(o.MinFrequency, 1))
	var merges [][2]string
	for len(tokens) < o.VocabSize && len(h.items) > 0 {
		if len(merges)%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		top := h.pop()
		if cur := pairs[top.pair]; cur != top.count {
			if cur > 0 {
				h.push(pairCount{top.pair, cur})
			}
			continue
		}
		if top.count < minFreq {
			break
		}
		a, b := int32(top.pair>>32), int32(uint32(top.pair))
		// Two merge paths can spell the same token; it keeps its first id.
		nt := tokens[a] + tokens[b]
		nid, ok := tokenID[nt]
		if !ok {
			nid = int32(len(tokens))
			tokens = append(tokens, nt)
			tokenID[nt] = nid
		}
		merges = append(merges, [2]string{tokens[a], tokens[b]})
		delete(pairs, top.pair)
		touched := map[uint64]bool{}
		for _, wi := range where[top.pair] {
			w := words[wi]
			f := freq[wi]
			out := w[:0:0]
			changed := false
			for i := 0; i < len(w); i++ {
				if i+1 < len(w) && w[i] == a && w[i+1] == b {
					changed = true
					if len(out) > 0 {
						p := out[len(out)-1]
						add(pairs, pairKey(p, a), -f, touched)
						add(pairs, pairKey(p, nid), f, touched)
						addWhere(where, pairKey(p, nid), wi)
					}
					if i+2 < len(w) {
						q := w[i+2]
						add(pairs, pairKey(b, q), -f, touched)
						add(pairs, pairKey(nid, q), f, touched)
						addWhere(where, pairKey(nid, q), wi)
					}
					out = append(out, nid)
					i++
					continue
				}
				out = append(out, w[i])
			}
			if changed {
				words[wi] = out
			}
		}
		delete(where, top.pair)
		for k := range touched {
			if c := pairs[k]; c > 0 {
				h.push(pairCount{k, c})
			} else {
				delete(pairs, k)
			}
		}
	}
	data, err := trainedJSON(tokens, len(o.SpecialTokens), merges, o.Pattern)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return t, nil
}

func add(pairs map[uint64]int64, k uint64, d int64, touched map[uint64]bool) {
	pairs[k] += d
	touched[k] = true
}

func addWhere(where map[uint64][]int32, k uint64, wi int32) {
	if l := where[k]; len(l) == 0 || l[len(l)-1] != wi {
		where[k] = append(l, wi)
	}
}

// pairCount is a heap entry: a pair and its count when pushed.
type pairCount struct {
	pair  uint64
	count int64
}

// countHeap is a max-heap by count, then the smaller pair, as the
// reference trainer orders merges.
type countHeap struct{ items []pairCount }

func (h *countHeap) less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if a.count != b.count {
		return a.count > b.count
	}
	return a.pair < b.pair
}

func (h *countHeap) push(p pairCount) {
	h.items = append(h.items, p)
	i := len(h.items) - 1
	for i > 0 {
		q := (i - 1) / 2
		if !h.less(i, q) {
			break
		}
		h.items[i], h.items[q] = h.items[q], h.items[i]
		i = q
	}
}

func (h *countHeap) pop() pairCount {
	top := h.items[0]
	n := len(h.items) - 1
	h.items[0] = h.items[n]
	h.items = h.items[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			break
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
	return top
}

// trainedJSON writes the tokenizer.json of a trained byte-level BPE, with
// the vocabulary in id order.
func trainedJSON(tokens []string, nSpecial int, merges [][2]string, pattern string) ([]byte, error) {
	var buf bytes.Buffer
	enc := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		buf.Write(b)
		return nil
	}
	added := make([]AddedToken, nSpecial)
	for i := range nSpecial {
		added[i] = AddedToken{ID: i, Content: tokens[i], Special: true}
	}
	buf.WriteString(`{"version":"1.0","truncation":null,"padding":null,"added_tokens":`)
	if err := enc(added); err != nil {
		return nil, err
	}
	buf.WriteString(`,"normalizer":null,"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":`)
	if err := enc(pattern); err != nil {
		return nil, err
	}
	buf.WriteString(`},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]}`)
	buf.WriteString(`,"post_processor":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true}`)
	buf.WriteString(`,"decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}`)
	buf.WriteString(`,"model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"ignore_merges":false,"vocab":{`)
	for id, t := range tokens {
		if id > 0 {
			buf.WriteByte(',')
		}
		if err := enc(t); err != nil {
			return nil, err
		}
		fmt.Fprintf(&buf, ":%d", id)
	}
	buf.WriteString(`},"merges":`)
	if merges == nil {
		merges = [][2]string{}
	}
	if err := enc(slices.Clip(merges)); err != nil {
		return nil, err
	}
	buf.WriteString("}}\n")
	return buf.Bytes(), nil
}
