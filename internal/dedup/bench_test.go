package dedup

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// plantedCorpus returns n documents of about 300 words where every 20th
// document is followed by a near-duplicate (1–5 substituted words, true
// 5-shingle Jaccard ≈ 0.85–0.97), and the planted (original, copy) pairs.
func plantedCorpus(n int) ([]Document, [][2]string) {
	c := newCorpus(42)
	docs := make([]Document, 0, n)
	var planted [][2]string
	for len(docs) < n {
		i := len(docs)
		w := c.words(280 + c.rng.IntN(40))
		docs = append(docs, Document{ID: fmt.Sprintf("doc%06d", i), Text: strings.Join(w, " ")})
		if i%20 == 0 && len(docs) < n {
			id := fmt.Sprintf("doc%06d-near", i)
			docs = append(docs, Document{ID: id, Text: strings.Join(c.mutate(w, 1+c.rng.IntN(5)), " ")})
			planted = append(planted, [2]string{docs[i].ID, id})
		}
	}
	return docs, planted
}

func benchmarkNearDup(b *testing.B, n int) {
	docs, planted := plantedCorpus(n)
	var rep Report
	c0 := cpuTime()
	for b.Loop() {
		ix, err := NewIndex(DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		if err := ix.AddAll(context.Background(), docs); err != nil {
			b.Fatal(err)
		}
		rep = ix.Clusters()
	}
	if cpu := (cpuTime() - c0).Seconds(); cpu > 0 {
		b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
	}
	cluster := make(map[string]int)
	for ci, c := range rep.Clusters {
		cluster[c.Keep] = ci
		for _, d := range c.Drop {
			cluster[d] = ci
		}
	}
	text := make(map[string]string, len(docs))
	for _, d := range docs {
		text[d.ID] = d.Text
	}
	h, _ := NewHasher(DefaultConfig())
	found, high, highFound := 0, 0, 0
	for _, p := range planted {
		ca, okA := cluster[p[0]]
		cb, okB := cluster[p[1]]
		hit := okA && okB && ca == cb
		if hit {
			found++
		}
		// Recall among pairs clearly above the threshold, where the
		// MinHash estimate's spread (σ ≈ 0.03 at P = 128) cannot matter.
		if Jaccard(h.Shingles(text[p[0]]), h.Shingles(text[p[1]])) >= 0.9 {
			high++
			if hit {
				highFound++
			}
		}
	}
	b.ReportMetric(float64(highFound)/float64(max(high, 1)), "recall_j≥0.9")
	// Every planted pair forms its own cluster of two; anything else merged
	// is a false positive.
	falseMembers := rep.Dropped - found
	b.ReportMetric(float64(found)/float64(len(planted)), "recall")
	b.ReportMetric(float64(falseMembers), "false_drops")
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkNearDup100k is the measure: 100,000 documents of ~300
// words with planted near-duplicates. Run with -benchtime=1x.
func BenchmarkNearDup100k(b *testing.B) { benchmarkNearDup(b, 100_000) }

// BenchmarkNearDup10k is a quicker version of the same workload.
func BenchmarkNearDup10k(b *testing.B) { benchmarkNearDup(b, 10_000) }

func BenchmarkSignature(b *testing.B) {
	h, err := NewHasher(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Join(newCorpus(7).words(300), " ")
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		h.Signature(text)
	}
}
