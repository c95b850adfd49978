package tokenizer

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// BenchmarkEncode measures encode throughput (MB/s) on the whole reference
// corpus, the same text scripts/tokref times transformers.js on.
func BenchmarkEncode(b *testing.B) {
	text, err := os.ReadFile(filepath.Join(refDir, "corpus.txt"))
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"llama3", "qwen3", "llama2", "bert", "trained"} {
		b.Run(name, func(b *testing.B) {
			// One tokenizer in memory at a time, as in a server, so the
			// collector does not rescan the others.
			tk := parseRef(b, name)
			runtime.GC()
			b.SetBytes(int64(len(text)))
			b.ResetTimer()
			cpu0 := processCPU()
			for b.Loop() {
				tk.Encode(string(text), false)
			}
			// The machine is shared, so also report throughput per CPU second,
			// which load disturbs far less than wall time.
			if cpu := (processCPU() - cpu0).Seconds(); cpu > 0 {
				b.ReportMetric(float64(b.N*len(text))/cpu/1e6, "cpu-MB/s")
			}
		})
	}
}

// syntheticCorpus makes about size bytes of text with a Zipf-like word
// distribution drawn from the reference corpus, for training benchmarks.
func syntheticCorpus(tb testing.TB, size int) []string {
	words := strings.Fields(strings.Join(corpusLines(tb), " "))
	r := rand.New(rand.NewPCG(7, 11))
	z := rand.NewZipf(r, 1.1, 1, 20000)
	var lines []string
	var sb strings.Builder
	n := 0
	for n < size {
		k := int(z.Uint64())
		w := words[k%len(words)]
		if k >= len(words) {
			// invent a rarer word by mutating a known one
			rw := []rune(w)
			rw[k%len(rw)] = rune('a' + k%26)
			w = string(rw) + string(rune('a'+(k/26)%26))
		}
		sb.WriteString(w)
		sb.WriteByte(' ')
		if sb.Len() > 200 {
			lines = append(lines, sb.String())
			n += sb.Len()
			sb.Reset()
		}
	}
	return lines
}

// BenchmarkTrain trains an 8k vocabulary on about 4 MB of text.
func BenchmarkTrain(b *testing.B) {
	lines := syntheticCorpus(b, 4<<20)
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		if _, err := Train(context.Background(), slices.Values(lines), TrainOptions{VocabSize: 8000, ByteLevel: true}); err != nil {
			b.Fatal(err)
		}
	}
}
