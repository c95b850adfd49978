package llm

import (
	"fmt"
	"testing"
)

// Benchmarks on the SmolLM2-135M shape with random weights. Run with
// go test -run XXX -bench . ./internal/llm (allocates ~600 MB per dtype).
func benchModel(b *testing.B, dtype string) *Model {
	cfg, err := Preset("smollm2-135m", "llama")
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	if dtype != DTypeF32 {
		if m, err = m.Convert(dtype); err != nil {
			b.Fatal(err)
		}
	}
	return m
}

func BenchmarkPrefill512(b *testing.B) {
	m := benchModel(b, DTypeF32)
	tokens := make([]int, 512)
	for i := range tokens {
		tokens[i] = (i * 37) % m.Config.VocabSize
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.ForwardLast(tokens, 0, m.NewCache(512)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(512*b.N)/b.Elapsed().Seconds(), "tok/s")
}

func BenchmarkDecode(b *testing.B) {
	for _, dt := range []string{DTypeF32, DTypeBF16, DTypeInt8} {
		m := benchModel(b, dt)
		for _, batch := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/batch%d", dt, batch), func(b *testing.B) {
				caches := make([]*KVCache, batch)
				tokens := make([]int, batch)
				for i := range caches {
					caches[i] = m.NewCache(0)
					if _, err := m.ForwardLast([]int{1, 2, 3, 4, 5, 6, 7, 8}, 0, caches[i]); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := m.DecodeBatch(tokens, caches); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "tok/s")
			})
		}
	}
}
