package rag

import (
	"context"
	"math"
	"slices"
	"testing"
)

func TestWeightedRRFByHand(t *testing.T) {
	sparse := []Scored{{Ord: 1, Score: 9}, {Ord: 2, Score: 5}}
	dense := []Scored{{Ord: 2, Score: 0.9}, {Ord: 3, Score: 0.5}}
	got := WeightedRRF([][]Scored{sparse, dense}, 60, []float64{2, 1})
	// ord 1: 2/61; ord 2: 2/62 + 1/61; ord 3: 1/62.
	want := map[int]float64{1: 2.0 / 61, 2: 2.0/62 + 1.0/61, 3: 1.0 / 62}
	if len(got) != 3 || got[0].Ord != 2 || got[1].Ord != 1 || got[2].Ord != 3 {
		t.Fatalf("order %+v", got)
	}
	for _, s := range got {
		if math.Abs(s.Score-want[s.Ord]) > 1e-12 {
			t.Errorf("ord %d: %v, want %v", s.Ord, s.Score, want[s.Ord])
		}
	}
	// Equal weights rank as plain RRF.
	a, b := WeightedRRF([][]Scored{sparse, dense}, 60, []float64{1, 1}), RRF([][]Scored{sparse, dense}, 60)
	if !slices.Equal(a, b) {
		t.Fatalf("weights 1/1 %+v, RRF %+v", a, b)
	}
}

// TestRRFWeightsPerRequest checks that a request's weights reach RRF: all
// weight on one retriever ranks exactly as that retriever.
func TestRRFWeightsPerRequest(t *testing.T) {
	ctx := context.Background()
	x, err := Create(t.TempDir(), Config{Chunking: ChunkConfig{ChildTokens: 16}}, hashEmbedder{64}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Upsert(ctx, docs); err != nil {
		t.Fatal(err)
	}
	ids := func(hs []Hit) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.ChunkID)
		}
		return out
	}
	for _, tc := range []struct {
		mode    string
		weights [2]float64
	}{{"bm25", [2]float64{1, 0}}, {"dense", [2]float64{0, 1}}} {
		one, err := x.Search(ctx, Query{Text: "travel expenses receipts", K: 5, Mode: tc.mode})
		if err != nil {
			t.Fatal(err)
		}
		fused, err := x.Search(ctx, Query{Text: "travel expenses receipts", K: 5, Mode: "hybrid", Fusion: "rrf", Weights: tc.weights})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(one), ids(fused)) {
			t.Errorf("rrf with weights %v: %v, want the %s ranking %v", tc.weights, ids(fused), tc.mode, ids(one))
		}
	}
}
