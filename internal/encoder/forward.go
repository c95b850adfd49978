package encoder

import (
	"context"
	"fmt"
	"math"

	"github.com/whet-dev/whet/internal/tensor"
)

// Input is one tokenised sequence: token ids and, for sentence pairs, token type ids
// (nil means all zeros). Ids include the special tokens ([CLS] … [SEP]).
type Input struct {
	IDs     []int
	TypeIDs []int
}

// Tokenizer is the part of a tokenizer the encoder needs (internal/tokenizer's
// *Tokenizer satisfies it): Encode with addSpecial adds [CLS] and [SEP].
type Tokenizer interface {
	Encode(text string, addSpecial bool) []int
}

// check validates a batch against the model's vocabulary and position limits.
func (m *Model) check(batch []Input) error {
	c := m.Config
	for i, in := range batch {
		if len(in.IDs) == 0 {
			return fmt.Errorf("%w: sequence %d is empty", ErrInput, i)
		}
		if len(in.IDs) > c.MaxPositionEmbeddings {
			return fmt.Errorf("%w: sequence %d has %d tokens, model allows %d", ErrInput, i, len(in.IDs), c.MaxPositionEmbeddings)
		}
		if in.TypeIDs != nil && len(in.TypeIDs) != len(in.IDs) {
			return fmt.Errorf("%w: sequence %d has %d type ids for %d tokens", ErrInput, i, len(in.TypeIDs), len(in.IDs))
		}
		for _, id := range in.IDs {
			if id < 0 || id >= c.VocabSize {
				return fmt.Errorf("%w: token id %d outside vocabulary of %d", ErrInput, id, c.VocabSize)
			}
		}
		for _, t := range in.TypeIDs {
			if t < 0 || t >= c.TypeVocabSize {
				return fmt.Errorf("%w: token type id %d outside %d types", ErrInput, t, c.TypeVocabSize)
			}
		}
	}
	return nil
}

// hidden runs the encoder over a batch and returns the final hidden states x[N×H] with
// the sequences packed one after another (no padding rows), and the start row of each
// sequence (off has len(batch)+1 entries). Packing is equivalent to padding with an
// attention mask: every sequence attends only to its own tokens.
func (m *Model) hidden(ctx context.Context, batch []Input) ([]float32, []int, error) {
	if err := m.check(batch); err != nil {
		return nil, nil, err
	}
	c := m.Config
	H, I := c.HiddenSize, c.IntermediateSize
	off := make([]int, len(batch)+1)
	for i, in := range batch {
		off[i+1] = off[i] + len(in.IDs)
	}
	N := off[len(batch)]
	ws := m.work.Get().(*workspace)
	defer m.work.Put(ws)
	x := make([]float32, N*H) // residual stream [N×H], returned
	q := ws.buf(0, N*H)       // [N×H]
	k := ws.buf(1, N*H)       // [N×H]
	v := ws.buf(2, N*H)       // [N×H]
	att := ws.buf(3, N*H)     // attention context [N×H]
	tmp := ws.buf(4, N*H)     // sublayer output [N×H]
	ff := ws.buf(5, N*I)      // intermediate [N×I]

	// Embeddings: word + absolute position + token type, then LayerNorm.
	for b, in := range batch {
		for i, id := range in.IDs {
			row := x[(off[b]+i)*H : (off[b]+i+1)*H]
			w := m.wordEmb[id*H : (id+1)*H]
			p := m.posEmb[i*H : (i+1)*H]
			t := 0
			if in.TypeIDs != nil {
				t = in.TypeIDs[i]
			}
			ty := m.typeEmb[t*H : (t+1)*H]
			for j := range row {
				row[j] = w[j] + p[j] + ty[j]
			}
		}
	}
	eps := float32(c.LayerNormEps)
	tensor.LayerNorm(x, x, m.embLNw, m.embLNb, N, H, eps, nil, nil)

	for l := range m.layers {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		ly := &m.layers[l]
		ly.q.forward(q, x, N)
		ly.k.forward(k, x, N)
		ly.v.forward(v, x, N)
		m.attention(att, q, k, v, off)
		ly.o.forward(tmp, att, N)
		for i := range x {
			x[i] += tmp[i]
		}
		tensor.LayerNorm(x, x, ly.ln1w, ly.ln1b, N, H, eps, nil, nil)
		ly.up.forward(ff, x, N)
		tensor.Parallel(len(ff), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				ff[i] = m.act(ff[i])
			}
		})
		ly.down.forward(tmp, ff, N)
		for i := range x {
			x[i] += tmp[i]
		}
		tensor.LayerNorm(x, x, ly.ln2w, ly.ln2b, N, H, eps, nil, nil)
	}
	return x, off, nil
}

// attention computes softmax(q_h·k_hᵀ/√d)·v_h for every sequence and head, writing the
// heads side by side into out[N×H]. Sequences are the row ranges given by off.
func (m *Model) attention(out, q, k, v []float32, off []int) {
	H := m.Config.HiddenSize
	nh := m.Config.NumAttentionHeads
	d := H / nh
	scale := float32(1 / math.Sqrt(float64(d)))
	nseq := len(off) - 1
	tensor.ParallelGrain(nseq*nh, 1, func(lo, hi int) {
		var qh, kh, vh, s, oh []float32
		for job := lo; job < hi; job++ {
			b, h := job/nh, job%nh
			L := off[b+1] - off[b]
			qh = grow(qh, L*d) // [L×d]
			kh = grow(kh, L*d) // [L×d]
			vh = grow(vh, L*d) // [L×d]
			s = grow(s, L*L)   // [L×L]
			oh = grow(oh, L*d) // [L×d]
			for i := 0; i < L; i++ {
				src := (off[b]+i)*H + h*d
				copy(qh[i*d:(i+1)*d], q[src:src+d])
				copy(kh[i*d:(i+1)*d], k[src:src+d])
				copy(vh[i*d:(i+1)*d], v[src:src+d])
			}
			tensor.MatMulNT(s, qh, kh, L, L, d, false)
			for i := 0; i < L; i++ {
				row := s[i*L : (i+1)*L]
				for j := range row {
					row[j] *= scale
				}
				tensor.SoftmaxInPlace(row)
			}
			tensor.MatMulNN(oh, s, vh, L, d, L, false)
			for i := 0; i < L; i++ {
				dst := (off[b]+i)*H + h*d
				copy(out[dst:dst+d], oh[i*d:(i+1)*d])
			}
		}
	})
}

// workspace holds the per-call activation buffers, reused across calls through a pool
// so large batches do not allocate and zero ~100 MB each time. Every buffer is fully
// overwritten before it is read.
type workspace struct{ bufs [6][]float32 }

func (w *workspace) buf(i, n int) []float32 {
	w.bufs[i] = grow(w.bufs[i], n)
	return w.bufs[i]
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// EmbedIDs returns one pooled (and, if configured, L2-normalised) vector per sequence.
func (m *Model) EmbedIDs(ctx context.Context, batch []Input) ([][]float32, error) {
	x, off, err := m.hidden(ctx, batch)
	if err != nil {
		return nil, err
	}
	H := m.Config.HiddenSize
	out := make([][]float32, len(batch))
	for b := range batch {
		vec := make([]float32, H)
		switch m.pooling {
		case PoolMean:
			n := off[b+1] - off[b]
			for r := off[b]; r < off[b+1]; r++ {
				for j, val := range x[r*H : (r+1)*H] {
					vec[j] += val
				}
			}
			for j := range vec {
				vec[j] /= float32(n)
			}
		default:
			copy(vec, x[off[b]*H:(off[b]+1)*H])
		}
		if m.normalize {
			l2normalize(vec)
		}
		out[b] = vec
	}
	return out, nil
}

// Logits runs the sequence-classification head: tanh(pooler([CLS])) then the classifier.
// It returns one row of Config.NumLabels logits per sequence.
func (m *Model) Logits(ctx context.Context, batch []Input) ([][]float32, error) {
	if m.classifier == nil {
		return nil, fmt.Errorf("%w: model has no classification head (architectures %v)", ErrConfig, m.Config.Architectures)
	}
	x, off, err := m.hidden(ctx, batch)
	if err != nil {
		return nil, err
	}
	H := m.Config.HiddenSize
	B := len(batch)
	cls := make([]float32, B*H) // [B×H]
	for b := 0; b < B; b++ {
		copy(cls[b*H:(b+1)*H], x[off[b]*H:(off[b]+1)*H])
	}
	pooled := make([]float32, B*H) // [B×H]
	m.pooler.forward(pooled, cls, B)
	for i, val := range pooled {
		pooled[i] = float32(math.Tanh(float64(val)))
	}
	nl := m.classifier.out
	logits := make([]float32, B*nl) // [B×labels]
	m.classifier.forward(logits, pooled, B)
	out := make([][]float32, B)
	for b := range out {
		out[b] = logits[b*nl : (b+1)*nl]
	}
	return out, nil
}

// truncate keeps at most n tokens, keeping the final special token (the [SEP]).
func truncate(ids []int, n int) []int {
	if len(ids) <= n {
		return ids
	}
	out := append([]int(nil), ids[:n-1]...)
	return append(out, ids[len(ids)-1])
}

// Embed tokenises texts (with special tokens, truncated to the model's positions) and
// embeds them as one batch.
func (m *Model) Embed(ctx context.Context, tok Tokenizer, texts []string) ([][]float32, error) {
	batch := make([]Input, len(texts))
	for i, t := range texts {
		batch[i] = Input{IDs: truncate(tok.Encode(t, true), m.Config.MaxPositionEmbeddings)}
	}
	return m.EmbedIDs(ctx, batch)
}

// PairInput builds "[CLS] a [SEP] b [SEP]" with token types 0 for the first segment and
// 1 for the second, as BERT's pair template does, truncating b to fit maxLen.
func PairInput(tok Tokenizer, a, b string, maxLen int) (Input, error) {
	first := tok.Encode(a, true)
	if len(first) < 2 {
		return Input{}, fmt.Errorf("%w: tokenizer added no special tokens", ErrInput)
	}
	sep := first[len(first)-1]
	second := append(tok.Encode(b, false), sep)
	if len(first)+len(second) > maxLen {
		keep := maxLen - len(first) - 1
		if keep < 0 {
			return Input{}, fmt.Errorf("%w: query alone exceeds %d tokens", ErrInput, maxLen)
		}
		second = append(second[:keep:keep], sep)
	}
	in := Input{IDs: append(append([]int(nil), first...), second...), TypeIDs: make([]int, len(first)+len(second))}
	for i := len(first); i < len(in.TypeIDs); i++ {
		in.TypeIDs[i] = 1
	}
	return in, nil
}

// Score rates each passage against the query with a cross-encoder and returns the first
// logit per passage (a relevance score; apply a sigmoid for a probability when the
// model has a single label).
func (m *Model) Score(ctx context.Context, tok Tokenizer, query string, passages []string) ([]float32, error) {
	batch := make([]Input, len(passages))
	for i, p := range passages {
		in, err := PairInput(tok, query, p, m.Config.MaxPositionEmbeddings)
		if err != nil {
			return nil, err
		}
		batch[i] = in
	}
	logits, err := m.Logits(ctx, batch)
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(logits))
	for i, l := range logits {
		out[i] = l[0]
	}
	return out, nil
}
