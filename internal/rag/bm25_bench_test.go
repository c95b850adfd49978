package rag

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchBM25 builds n documents of 80 terms drawn from a Zipf law over a
// 20k-word vocabulary.
func benchBM25(n int) (*BM25, *rand.Rand, []string) {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := make([]string, 20000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%d", i)
	}
	z := rand.NewZipf(rng, 1.07, 2, uint64(len(vocab)-1))
	bm := NewBM25(1.2, 0.75)
	doc := make([]string, 80)
	for range n {
		for j := range doc {
			doc[j] = vocab[z.Uint64()]
		}
		bm.Add(doc)
	}
	return bm, rng, vocab
}

func BenchmarkBM25Search(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			bm, rng, vocab := benchBM25(n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				q := []string{vocab[20+rng.IntN(5000)], vocab[20+rng.IntN(5000)], vocab[20+rng.IntN(5000)]}
				bm.Search(q, 10, nil)
			}
		})
	}
}

func BenchmarkHNSWSearch(b *testing.B) {
	const n, dim = 5000, 384
	rng := rand.New(rand.NewPCG(3, 4))
	h := NewHNSW(dim, 0, 0, 0, 1)
	vec := func() []float32 {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(rng.NormFloat64())
		}
		return v
	}
	for range n {
		h.Add(vec())
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Search(vec(), 10, 0, nil)
	}
}
