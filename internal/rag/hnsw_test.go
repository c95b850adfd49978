package rag

import (
	"bytes"
	"encoding/gob"
	"errors"
	"math/rand/v2"
	"strings"
	"sync/atomic"
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

func recallAt10(t *testing.T, h *HNSW, queries [][]float32, ef int) float64 {
	t.Helper()
	found, total := 0, 0
	for _, q := range queries {
		want := map[int]bool{}
		for _, s := range h.Exact(q, 10, nil) {
			want[s.Ord] = true
		}
		for _, s := range h.Search(q, 10, ef, nil) {
			if want[s.Ord] {
				found++
			}
		}
		total += len(want)
	}
	return float64(found) / float64(total)
}

// TestHNSWAddBatchParallel inserts on four goroutines (run with -race: the
// per-node locks) and checks the graph is as good as a serial one.
func TestHNSWAddBatchParallel(t *testing.T) {
	n, dim := 3000, 64
	if raceEnabled {
		n = 800
	}
	vs := randVecs(n, dim, 11)
	h := NewHNSW(dim, 12, 100, 128, 5)
	var calls atomic.Int64
	first := h.AddBatch(vs[:n/2], 4, func(int) { calls.Add(1) })
	if first != 0 || h.Len() != n/2 {
		t.Fatalf("first %d len %d", first, h.Len())
	}
	if second := h.AddBatch(vs[n/2:], 4, nil); second != n/2 || h.Len() != n {
		t.Fatalf("second batch at %d, len %d", second, h.Len())
	}
	if calls.Load() == 0 {
		t.Fatal("progress never called")
	}
	// Every node is linked to on layer 0 (a parallel insert that
	// overwrote the links a concurrent one had added orphaned nodes, a few
	// per thousand) and is found as its own nearest neighbour.
	in := make([]int, n)
	for i := range int32(n) {
		row := h.row(i, 0)
		for _, nb := range row[1 : 1+row[0]] {
			in[nb]++
		}
	}
	for i, c := range in {
		if c == 0 {
			t.Fatalf("node %d: no links to it on layer 0", i)
		}
	}
	for i := range n {
		if got := h.Search(vs[i], 1, 0, nil); len(got) != 1 || got[0].Ord != i {
			t.Fatalf("self search %d = %v", i, got)
		}
	}
	r := recallAt10(t, h, randVecs(50, dim, 12), 0)
	t.Logf("recall@10 = %.3f (parallel build, %d × %d)", r, n, dim)
	if r < 0.9 {
		t.Fatalf("recall@10 = %.3f after parallel build", r)
	}
	// A layer-1 beam instead of the greedy descent finds as much.
	h.EfUpper = 16
	if r16 := recallAt10(t, h, randVecs(50, dim, 12), 0); r16 < 0.9 {
		t.Fatalf("recall@10 = %.3f with EfUpper 16", r16)
	}
	if got := h.Search(vs[3], 1, 0, nil); len(got) != 1 || got[0].Ord != 3 {
		t.Fatalf("self search with EfUpper 16 = %v", got)
	}
	h.EfUpper = 0
	// The int8 walk with a float32 re-score loses little recall, and
	// scores are exact cosines.
	h.Int8 = true
	if r8 := recallAt10(t, h, randVecs(50, dim, 12), 0); r8 < r-0.05 {
		t.Fatalf("recall@10 = %.3f with Int8, %.3f without", r8, r)
	}
	got := h.Search(vs[3], 3, 0, nil)
	if len(got) != 3 || got[0].Ord != 3 || got[0].Score < 0.9999 {
		t.Fatalf("self search with Int8 = %v", got)
	}
	h.Int8 = false
	// Links stay within capacity and never point at the node itself.
	for i := int32(0); i < int32(n); i++ {
		for l := 0; l <= h.level(i); l++ {
			row := h.row(i, l)
			if int(row[0]) > len(row)-1 {
				t.Fatalf("node %d layer %d: count %d over capacity", i, l, row[0])
			}
			for _, nb := range row[1 : 1+row[0]] {
				if nb == i || nb < 0 || int(nb) >= n {
					t.Fatalf("node %d layer %d: bad link %d", i, l, nb)
				}
			}
		}
	}
}

// TestHNSWSnapshotFormats round-trips the current layout through gob and
// loads a format-0 snapshot (Links [][][]int32, as written before the slab
// layout), which must search exactly like the graph it was made from.
func TestHNSWSnapshotFormats(t *testing.T) {
	dim := 24
	vs := randVecs(600, dim, 21)
	h := NewHNSW(dim, 8, 64, 64, 3)
	for _, v := range vs {
		h.Add(v)
	}
	h.Delete(5)
	roundTrip := func(in any, out any) {
		var b bytes.Buffer
		if err := gob.NewEncoder(&b).Encode(in); err != nil {
			t.Fatal(err)
		}
		if err := gob.NewDecoder(&b).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	// The legacy layout, field for field as the old struct had it.
	type legacyHNSW struct {
		Dim, M, EfConstruction, EfSearch int
		Vecs                             []float32
		Links                            [][][]int32
		Deleted                          []bool
		Entry                            int32
		MaxLevel                         int
		Seed                             uint64
	}
	old := legacyHNSW{Dim: h.Dim, M: h.M, EfConstruction: h.EfConstruction, EfSearch: h.EfSearch,
		Vecs: h.Vecs, Deleted: h.Deleted, Entry: h.Entry, MaxLevel: h.MaxLevel, Seed: h.Seed}
	for i := int32(0); i < int32(h.Len()); i++ {
		var layers [][]int32
		for l := 0; l <= h.level(i); l++ {
			row := h.row(i, l)
			layers = append(layers, append([]int32(nil), row[1:1+row[0]]...))
		}
		old.Links = append(old.Links, layers)
	}
	var fromOld, fromNew HNSW
	roundTrip(old, &fromOld)
	roundTrip(h, &fromNew)
	if fromOld.Format != 0 || fromNew.Format != hnswFormat {
		t.Fatalf("formats %d, %d", fromOld.Format, fromNew.Format)
	}
	for qi, q := range randVecs(20, dim, 22) {
		want := h.Search(q, 10, 0, nil)
		for name, g := range map[string]*HNSW{"format 0": &fromOld, "current": &fromNew} {
			got := g.Search(q, 10, 0, nil)
			if len(got) != len(want) {
				t.Fatalf("%s query %d: %v, want %v", name, qi, got, want)
			}
			for i := range got {
				if got[i].Ord != want[i].Ord || got[i].Ord == 5 {
					t.Fatalf("%s query %d: %v, want %v", name, qi, got, want)
				}
			}
		}
	}
	if err := fromNew.Validate(); err != nil {
		t.Fatal(err)
	}
	future := &HNSW{Dim: dim, M: 8, Format: hnswFormat + 1}
	if err := future.Validate(); err == nil || !errors.Is(err, ErrIndex) || !strings.Contains(err.Error(), "rebuild") {
		t.Fatalf("future layout: %v", err)
	}
	// A converted old graph takes inserts like a new one.
	if ord := fromOld.Add(vs[0]); ord != 600 || fromOld.Links != nil {
		t.Fatalf("add after conversion: ord %d", ord)
	}
	if got := fromOld.Search(vs[0], 2, 0, nil); len(got) != 2 || (got[0].Ord != 0 && got[0].Ord != 600) {
		t.Fatalf("search after conversion: %v", got)
	}
}
