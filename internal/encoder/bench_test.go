package encoder

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// memSource serves random weights by name, shaped on demand by build's requests.
type memSource struct {
	cfg   Config
	rng   *rand.Rand
	names []string
}

func (s *memSource) Names() []string { return s.names }

func (s *memSource) Float32(name string) ([]float32, []int, error) {
	H, I := s.cfg.HiddenSize, s.cfg.IntermediateSize
	shape := []int{H}
	switch {
	case name == "embeddings.word_embeddings.weight":
		shape = []int{s.cfg.VocabSize, H}
	case name == "embeddings.position_embeddings.weight":
		shape = []int{s.cfg.MaxPositionEmbeddings, H}
	case name == "embeddings.token_type_embeddings.weight":
		shape = []int{s.cfg.TypeVocabSize, H}
	case hasSuffix(name, "intermediate.dense.weight"):
		shape = []int{I, H}
	case hasSuffix(name, "intermediate.dense.bias"):
		shape = []int{I}
	case hasSuffix(name, "output.dense.weight") && !hasSuffix(name, "attention.output.dense.weight"):
		shape = []int{H, I}
	case hasSuffix(name, ".weight") && !hasSuffix(name, "LayerNorm.weight"):
		shape = []int{H, H}
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(s.rng.NormFloat64() * 0.05)
	}
	return v, shape, nil
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

// miniLM builds a random model shaped like all-MiniLM-L6-v2.
func miniLM(b *testing.B, int8 bool) *Model {
	cfg := Config{VocabSize: 30522, HiddenSize: 384, NumHiddenLayers: 6, NumAttentionHeads: 12,
		IntermediateSize: 1536, HiddenAct: "gelu", MaxPositionEmbeddings: 512, TypeVocabSize: 2, LayerNormEps: 1e-12}
	m, err := build(cfg, &memSource{cfg: cfg, rng: rand.New(rand.NewPCG(1, 2))}, Options{Int8: int8})
	if err != nil {
		b.Fatal(err)
	}
	m.pooling = PoolMean
	m.normalize = true
	return m
}

// BenchmarkMiniLMEmbed embeds batches of 128-token sequences with a MiniLM-L6-shaped
// model and reports embeddings per second.
func BenchmarkMiniLMEmbed(b *testing.B) {
	for _, q := range []bool{false, true} {
		for _, bs := range []int{1, 32} {
			name := fmt.Sprintf("f32/batch%d", bs)
			if q {
				name = fmt.Sprintf("int8/batch%d", bs)
			}
			b.Run(name, func(b *testing.B) {
				m := miniLM(b, q)
				rng := rand.New(rand.NewPCG(3, 4))
				batch := make([]Input, bs)
				for i := range batch {
					ids := make([]int, 128)
					for j := range ids {
						ids[j] = rng.IntN(m.Config.VocabSize)
					}
					batch[i] = Input{IDs: ids}
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := m.EmbedIDs(context.Background(), batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*bs)/b.Elapsed().Seconds(), "emb/s")
			})
		}
	}
}
