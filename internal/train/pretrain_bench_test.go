package train

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/whet-dev/whet/internal/llm"
)

// BenchmarkPretrainStep times one optimizer step of the "small" preset
// (8 windows of 256 tokens, 4096-token vocabulary) on random documents.
func BenchmarkPretrainStep(b *testing.B) {
	c, err := llm.Preset("small", "llama")
	if err != nil {
		b.Fatal(err)
	}
	m, err := llm.New(c, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	docs := make([][]int, 64)
	for i := range docs {
		docs[i] = make([]int, 100+rng.IntN(900))
		for j := range docs[i] {
			docs[i][j] = 3 + rng.IntN(c.VocabSize-3)
		}
	}
	cfg := DefaultPretrainConfig(m)
	cfg.Steps = b.N + 1
	pt, err := NewPretrainer(m, docs, cfg)
	if err != nil {
		b.Fatal(err)
	}
	pt.total = 1
	if _, err := pt.Run(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	pt.total = b.N + 1
	st, err := pt.Run(context.Background(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(st.TokensPerSec, "tokens/s")
}
