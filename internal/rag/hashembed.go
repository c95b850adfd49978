package rag

import (
	"context"
	"hash/fnv"
	"math"
)

// HashEmbedder is a model-free dense embedder: analysed terms and character
// trigrams of each term are feature-hashed into Dim signed buckets (the
// "hashing trick"), with sublinear term weights, then L2-normalised. It is
// lexical, not semantic — a baseline that lets an index run hybrid search
// when no encoder model is configured, and a deterministic embedder for tests.
type HashEmbedder struct {
	Dimensions int
	an         *Analyzer
}

// NewHashEmbedder returns a feature-hashing embedder with dim dimensions.
func NewHashEmbedder(dim int) *HashEmbedder {
	if dim <= 0 {
		dim = 384
	}
	return &HashEmbedder{Dimensions: dim, an: NewAnalyzer("en")}
}

// Dim implements Embedder.
func (h *HashEmbedder) Dim() int { return h.Dimensions }

// Embed implements Embedder.
func (h *HashEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		counts := map[string]float64{}
		for _, term := range h.an.Tokens(t) {
			counts["w:"+term]++
			r := []rune("^" + term + "$")
			for j := 0; j+3 <= len(r); j++ {
				counts["c:"+string(r[j:j+3])] += 0.5
			}
		}
		v := make([]float32, h.Dimensions)
		for f, c := range counts {
			hs := fnv.New64a()
			hs.Write([]byte(f))
			x := hs.Sum64()
			sign := float32(1)
			if x>>63 == 1 {
				sign = -1
			}
			v[x%uint64(h.Dimensions)] += sign * float32(1+math.Log(c))
		}
		Normalize(v)
		out[i] = v
	}
	return out, nil
}
