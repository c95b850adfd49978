package rag

import (
	"math/rand/v2"
	"testing"
)

func randVecs(n, dim int, seed uint64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([][]float32, n)
	for i := range out {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		out[i] = v
	}
	return out
}

// TestHNSWRecall measures recall@10 against exact search on random 384-d
// vectors: a quality property of the graph, asserted at the bar.
func TestHNSWRecall(t *testing.T) {
	n, dim := 5000, 384
	if testing.Short() || raceEnabled {
		n = 1500
	}
	h := NewHNSW(dim, 0, 0, 0, 7)
	for _, v := range randVecs(n, dim, 1) {
		h.Add(v)
	}
	queries := randVecs(100, dim, 2)
	found, total := 0, 0
	for _, q := range queries {
		want := map[int]bool{}
		for _, s := range h.Exact(q, 10, nil) {
			want[s.Ord] = true
		}
		for _, s := range h.Search(q, 10, 0, nil) {
			if want[s.Ord] {
				found++
			}
		}
		total += 10
	}
	recall := float64(found) / float64(total)
	t.Logf("recall@10 = %.3f over %d vectors (defaults)", recall, n)
	if recall < 0.95 {
		t.Fatalf("recall@10 = %.3f, want ≥ 0.95", recall)
	}
}

func TestHNSWDeleteAndFilter(t *testing.T) {
	h := NewHNSW(16, 8, 64, 64, 3)
	vs := randVecs(500, 16, 5)
	for _, v := range vs {
		h.Add(v)
	}
	// A vector's own nearest neighbour is itself, until deleted.
	if got := h.Search(vs[42], 1, 0, nil); len(got) != 1 || got[0].Ord != 42 {
		t.Fatalf("self search = %v", got)
	}
	h.Delete(42)
	for _, s := range h.Search(vs[42], 10, 0, nil) {
		if s.Ord == 42 {
			t.Fatal("deleted node returned")
		}
	}
	even := func(o int) bool { return o%2 == 0 }
	for _, s := range h.Search(vs[7], 10, 0, even) {
		if s.Ord%2 != 0 {
			t.Fatalf("filter violated: %d", s.Ord)
		}
	}
	rare := func(o int) bool { return o == 300 || o == 301 }
	got := h.Search(vs[0], 5, 0, rare)
	if len(got) != 2 {
		t.Fatalf("selective filter: %v", got)
	}
}
