package llm

import (
	"fmt"

	"github.com/whet-dev/whet/internal/tensor"
)

// KVCache holds one sequence's keys and values for every layer. It grows
// as tokens are added, up to MaxSeq positions.
type KVCache struct {
	k, v   [][]float32 // [layers][cap×KVDim], keys after RoPE
	kvDim  int
	cap    int
	maxSeq int
	// Len is the number of positions cached; the next token goes at Len.
	Len int
}

// NewCache returns an empty cache for sequences of up to maxSeq tokens
// (0 or more than the model allows: the model's MaxSeq).
func (m *Model) NewCache(maxSeq int) *KVCache {
	if maxSeq <= 0 || maxSeq > m.maxSeq {
		maxSeq = m.maxSeq
	}
	n := len(m.Layers)
	return &KVCache{k: make([][]float32, n), v: make([][]float32, n), kvDim: m.Config.KVDim(), maxSeq: maxSeq}
}

// MaxSeq returns the longest sequence the cache holds.
func (c *KVCache) MaxSeq() int { return c.maxSeq }

// Truncate forgets every position from n on (to reuse a shared prefix).
func (c *KVCache) Truncate(n int) {
	if n < c.Len {
		c.Len = max(n, 0)
	}
}

// Bytes returns the memory the cache currently holds.
func (c *KVCache) Bytes() int64 { return int64(len(c.k)) * 2 * 4 * int64(c.cap*c.kvDim) }

// reserve makes room for n positions.
func (c *KVCache) reserve(n int) {
	if n <= c.cap {
		return
	}
	nc := max(n, 2*c.cap, 64)
	nc = min(nc, c.maxSeq)
	for l := range c.k {
		k := make([]float32, nc*c.kvDim)
		v := make([]float32, nc*c.kvDim)
		copy(k, c.k[l][:c.Len*c.kvDim])
		copy(v, c.v[l][:c.Len*c.kvDim])
		c.k[l], c.v[l] = k, v
	}
	c.cap = nc
}

// workspace holds the activations of one forward call; it is reused
// through the model's pool and grows to the largest call seen.
type workspace struct {
	x, xn, q, k, v, att, tmp, gate, up []float32
	scratch, logits, lastX             []float32
	pos                                []int
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// segment is a run of rows in one forward call that belong to one sequence.
type segment struct {
	cache      *KVCache
	row0, rows int
	pos0       int
}

// Forward runs tokens through the sequence held by cache, starting at
// position pos, and returns the logits of every token ([len(tokens)×V],
// freshly allocated). pos may be below cache.Len to rewrite the tail
// (the cache is truncated to pos first). A nil cache runs a standalone
// sequence from position 0.
func (m *Model) Forward(tokens []int, pos int, cache *KVCache) ([]float32, error) {
	return m.forwardSeq(tokens, pos, cache, true)
}

// ForwardLast is Forward returning only the last token's logits [V], which
// skips the vocabulary projection for the other tokens (prefill).
func (m *Model) ForwardLast(tokens []int, pos int, cache *KVCache) ([]float32, error) {
	return m.forwardSeq(tokens, pos, cache, false)
}

func (m *Model) forwardSeq(tokens []int, pos int, cache *KVCache, all bool) ([]float32, error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("llm: forward: no tokens")
	}
	if cache == nil {
		if pos != 0 {
			return nil, fmt.Errorf("llm: forward: position %d without a cache", pos)
		}
		cache = m.NewCache(len(tokens))
	}
	if pos < 0 || pos > cache.Len {
		return nil, fmt.Errorf("llm: forward: position %d but cache holds %d", pos, cache.Len)
	}
	cache.Truncate(pos)
	rows := []int{len(tokens) - 1}
	if all {
		rows = make([]int, len(tokens))
		for i := range rows {
			rows[i] = i
		}
	}
	return m.run(tokens, []segment{{cache: cache, rows: len(tokens), pos0: pos}}, rows)
}

// DecodeBatch advances several sequences by one token each: tokens[b] goes
// to caches[b] at position caches[b].Len. It returns logits [B×V]. The
// linear layers run once over all B rows; attention runs per sequence.
// Caches must be distinct.
func (m *Model) DecodeBatch(tokens []int, caches []*KVCache) ([]float32, error) {
	if len(tokens) != len(caches) || len(tokens) == 0 {
		return nil, fmt.Errorf("llm: decode batch: %d tokens for %d caches", len(tokens), len(caches))
	}
	segs := make([]segment, len(tokens))
	rows := make([]int, len(tokens))
	seen := make(map[*KVCache]bool, len(caches))
	for b, c := range caches {
		if c == nil || seen[c] {
			return nil, fmt.Errorf("llm: decode batch: cache %d is nil or repeated", b)
		}
		seen[c] = true
		segs[b] = segment{cache: c, row0: b, rows: 1, pos0: c.Len}
		rows[b] = b
	}
	return m.run(tokens, segs, rows)
}

// run executes one forward pass over rows grouped in segments and returns
// logits for the requested rows.
func (m *Model) run(tokens []int, segs []segment, logitRows []int) ([]float32, error) {
	c := m.Config
	for _, id := range tokens {
		if id < 0 || id >= c.VocabSize {
			return nil, fmt.Errorf("llm: forward: token id %d outside vocabulary [0,%d)", id, c.VocabSize)
		}
	}
	for _, s := range segs {
		if end := s.pos0 + s.rows; end > s.cache.maxSeq || end > m.maxSeq {
			return nil, fmt.Errorf("%w: %d positions, limit %d", ErrContextOverflow, end, min(s.cache.maxSeq, m.maxSeq))
		}
		if len(s.cache.k) != len(m.Layers) || s.cache.kvDim != c.KVDim() {
			return nil, fmt.Errorf("llm: forward: cache belongs to a different model")
		}
	}
	ws := m.getWorkspace()
	defer m.putWorkspace(ws)

	T := len(tokens)
	C, Q, KV, F, V := c.HiddenSize, c.QDim(), c.KVDim(), c.IntermediateSize, c.VocabSize
	ws.x = grow(ws.x, T*C)
	ws.xn = grow(ws.xn, T*C)
	ws.tmp = grow(ws.tmp, T*C)
	ws.q = grow(ws.q, T*Q)
	ws.att = grow(ws.att, T*Q)
	ws.k = grow(ws.k, T*KV)
	ws.v = grow(ws.v, T*KV)
	ws.gate = grow(ws.gate, T*F)
	ws.up = grow(ws.up, T*F)
	if cap(ws.pos) < T {
		ws.pos = make([]int, T)
	}
	ws.pos = ws.pos[:T]
	// Multi-token segments run one after another and share one attention
	// scratch; single-token segments (batched decoding) run concurrently,
	// each with its own nHeads×S slice after it.
	multi, singles := 0, 0
	for _, s := range segs {
		s.cache.reserve(s.pos0 + s.rows)
		for r := 0; r < s.rows; r++ {
			ws.pos[s.row0+r] = s.pos0 + r
		}
		if s.rows == 1 {
			singles++
		} else {
			multi = max(multi, AttentionScratchSize(s.rows, s.pos0+s.rows, c.NumHeads, c.HeadDim))
		}
	}
	ws.scratch = grow(ws.scratch, multi+singles*c.NumHeads*m.maxSeqOf(segs))

	EmbeddingForward(ws.x, tokens, m.Embed)
	eps := m.rmsEps()
	for l := range m.Layers {
		L := &m.Layers[l]
		RMSNormForward(ws.xn, nil, ws.x, L.AttnNorm, T, C, eps)
		L.Q.Forward(ws.q, ws.xn, T)
		L.K.Forward(ws.k, ws.xn, T)
		L.V.Forward(ws.v, ws.xn, T)
		RoPEForward(ws.q, ws.pos, c.NumHeads, c.HeadDim, m.cos, m.sin)
		RoPEForward(ws.k, ws.pos, c.NumKVHeads, c.HeadDim, m.cos, m.sin)
		for _, s := range segs {
			kc, vc := s.cache.k[l], s.cache.v[l]
			copy(kc[s.pos0*KV:(s.pos0+s.rows)*KV], ws.k[s.row0*KV:(s.row0+s.rows)*KV])
			copy(vc[s.pos0*KV:(s.pos0+s.rows)*KV], ws.v[s.row0*KV:(s.row0+s.rows)*KV])
		}
		m.attention(ws, segs, l)
		L.O.Forward(ws.tmp, ws.att, T)
		tensor.Add(ws.x, ws.x, ws.tmp)
		RMSNormForward(ws.xn, nil, ws.x, L.MLPNorm, T, C, eps)
		L.Gate.Forward(ws.gate, ws.xn, T)
		L.Up.Forward(ws.up, ws.xn, T)
		SwiGLUForward(ws.gate, ws.gate, ws.up)
		L.Down.Forward(ws.tmp, ws.gate, T)
		tensor.Add(ws.x, ws.x, ws.tmp)
	}
	for _, s := range segs {
		s.cache.Len = s.pos0 + s.rows
	}
	R := len(logitRows)
	ws.lastX = grow(ws.lastX, R*C)
	for i, r := range logitRows {
		copy(ws.lastX[i*C:(i+1)*C], ws.x[r*C:(r+1)*C])
	}
	RMSNormForward(ws.lastX, nil, ws.lastX, m.Norm, R, C, eps)
	logits := make([]float32, R*V)
	m.LMHead.Forward(logits, ws.lastX, R)
	return logits, nil
}

// maxSeqOf returns the longest key range among single-token segments.
func (m *Model) maxSeqOf(segs []segment) int {
	n := 0
	for _, s := range segs {
		if s.rows == 1 {
			n = max(n, s.pos0+1)
		}
	}
	return n
}

// attention runs AttentionForward for every segment of layer l. Runs of
// single-token segments (batched decoding) are spread over goroutines by
// (sequence, head) so a batch keeps every core busy.
func (m *Model) attention(ws *workspace, segs []segment, l int) {
	c := m.Config
	Q, KV := c.QDim(), c.KVDim()
	var singles []segment
	for _, s := range segs {
		if s.rows == 1 {
			singles = append(singles, s)
			continue
		}
		S := s.pos0 + s.rows
		AttentionForward(ws.att[s.row0*Q:], nil, ws.q[s.row0*Q:], s.cache.k[l][:S*KV], s.cache.v[l][:S*KV],
			ws.scratch, s.rows, s.pos0, c.NumHeads, c.NumKVHeads, c.HeadDim, c.SlidingWindow)
	}
	if len(singles) == 0 {
		return
	}
	maxS := m.maxSeqOf(singles)
	base := len(ws.scratch) - len(singles)*c.NumHeads*maxS
	if len(singles) == 1 {
		// One sequence: parallelise over its heads instead.
		s := singles[0]
		S := s.pos0 + 1
		AttentionForward(ws.att[s.row0*Q:], nil, ws.q[s.row0*Q:], s.cache.k[l][:S*KV], s.cache.v[l][:S*KV],
			ws.scratch[base:], 1, s.pos0, c.NumHeads, c.NumKVHeads, c.HeadDim, c.SlidingWindow)
		return
	}
	tensor.Parallel(len(singles), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s := singles[i]
			S := s.pos0 + 1
			sc := ws.scratch[base+i*c.NumHeads*maxS : base+(i+1)*c.NumHeads*maxS]
			decodeAttention(ws.att[s.row0*Q:(s.row0+1)*Q], ws.q[s.row0*Q:(s.row0+1)*Q], s.cache.k[l][:S*KV], s.cache.v[l][:S*KV],
				sc, s.pos0, c.NumHeads, c.NumKVHeads, c.HeadDim, c.SlidingWindow)
		}
	})
}

// decodeAttention is AttentionForward for one query, serial over heads
// (the caller parallelises over sequences).
func decodeAttention(out, q, k, v, scratch []float32, pos, nHeads, nKV, headDim, window int) {
	S := pos + 1
	kvdim, group := nKV*headDim, nHeads/nKV
	scale := m32InvSqrt(headDim)
	lo, hi := keyRange(pos, window)
	for h := 0; h < nHeads; h++ {
		qh := q[h*headDim : (h+1)*headDim]
		off := (h / group) * headDim
		a := scratch[h*S : (h+1)*S]
		for j := lo; j < hi; j++ {
			a[j] = tensor.Dot(qh, k[j*kvdim+off:]) * scale
		}
		tensor.SoftmaxInPlace(a[lo:hi])
		o := out[h*headDim : (h+1)*headDim]
		clear(o)
		for j := lo; j < hi; j++ {
			tensor.Axpy(a[j], v[j*kvdim+off:j*kvdim+off+headDim], o)
		}
	}
}
