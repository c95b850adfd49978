package rag

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that only moves when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// slowReranker is a cross-encoder that takes perPair (on the fake clock)
// per passage, plus overhead per call, and prefers passages ending in a
// higher number. It records its batch sizes.
type slowReranker struct {
	clock    *fakeClock
	perPair  func(call int) time.Duration
	overhead time.Duration
	batches  []int
}

func (r *slowReranker) Score(_ context.Context, _ string, ps []string) ([]float32, error) {
	r.clock.advance(r.overhead + time.Duration(len(ps))*r.perPair(len(r.batches)))
	r.batches = append(r.batches, len(ps))
	out := make([]float32, len(ps))
	for i, p := range ps {
		var n int
		fmt.Sscanf(p[strings.LastIndexByte(p, ' ')+1:], "%d", &n)
		out[i] = float32(n)
	}
	return out, nil
}

func steady(d time.Duration) func(int) time.Duration { return func(int) time.Duration { return d } }

// TestScoreWithinBudget runs a re-rank of 50 against a 200 ms budget with
// cross-encoders of several speeds on a fake clock: the time spent must stay
// within the budget plus one pair's cost, and the number scored must be what
// fits.
func TestScoreWithinBudget(t *testing.T) {
	ctx := context.Background()
	passages := make([]string, 50)
	for i := range passages {
		passages[i] = fmt.Sprintf("passage %d", i)
	}
	const budget = 200 * time.Millisecond
	cases := []struct {
		name     string
		perPair  func(int) time.Duration
		overhead time.Duration
		budget   time.Duration
		want     int // passages scored
	}{
		// 37.5 ms a pair (8 pairs ≈ 300 ms, as measured with MiniLM-L6 on
		// 2 cores): the probe, then batches of 2 (twice the last, and
		// what the time left holds), 187.5 ms in all.
		{"slow", steady(37500 * time.Microsecond), 0, budget, 5},
		// A pair alone is over budget: only the probe runs.
		{"slower than the budget", steady(300 * time.Millisecond), 0, budget, 1},
		{"fast", steady(time.Millisecond), 0, budget, 50},
		{"free", steady(0), 0, budget, 50},
		// 10 ms a call on top of 5 ms a pair: the estimate, the mean cost
		// per pair calls included, keeps batches small enough.
		{"call overhead", steady(5 * time.Millisecond), 10 * time.Millisecond, budget, 27},
		// The cost triples after the probe (a cold cache, another load):
		// batches that at most double keep the overshoot small, and the
		// next batch is sized on the last one's cost.
		{"slowing down", func(call int) time.Duration {
			if call == 0 {
				return 10 * time.Millisecond
			}
			return 30 * time.Millisecond
		}, 0, budget, 7},
		{"no budget", steady(37500 * time.Microsecond), 0, 0, 50},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Unix(1e9, 0)}
			rr := &slowReranker{clock: clock, perPair: tc.perPair, overhead: tc.overhead}
			start := clock.now()
			scores, err := ScoreWithin(ctx, rr, "q", passages, tc.budget, clock.now)
			if err != nil {
				t.Fatal(err)
			}
			spent := clock.now().Sub(start)
			t.Logf("scored %d in %v, batches %v", len(scores), spent, rr.batches)
			if tc.want > 0 && len(scores) != tc.want {
				t.Fatalf("scored %d, want %d", len(scores), tc.want)
			}
			if tc.budget > 0 && spent > tc.budget+tc.overhead+tc.perPair(len(rr.batches)-1) {
				t.Fatalf("spent %v of a %v budget", spent, tc.budget)
			}
			for i, s := range scores {
				if s != float32(i) {
					t.Fatalf("score %d = %v: scores out of order", i, s)
				}
			}
			for _, b := range rr.batches {
				if b < 1 || b > rerankBatch {
					t.Fatalf("batch of %d", b)
				}
			}
			if tc.budget > 0 && rr.batches[0] != 1 {
				t.Fatalf("first batch %d, want a probe of 1", rr.batches[0])
			}
		})
	}
}

// TestSearchRerankReport re-ranks through Index.Search with a slow fake
// cross-encoder on a fake clock: the response says how many candidates were
// scored and that the budget cut it short, and the scored ones lead, best
// first, ahead of the rest in fused order.
func TestSearchRerankReport(t *testing.T) {
	ctx := context.Background()
	var many []Doc
	for i := range 30 {
		many = append(many, Doc{ID: fmt.Sprintf("d%d", i), Text: fmt.Sprintf("travel policy number %d", i)})
	}
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	rr := &slowReranker{clock: clock, perPair: steady(37500 * time.Microsecond)}
	x, err := Create(t.TempDir(), Config{}, nil, rr)
	if err != nil {
		t.Fatal(err)
	}
	x.Clock = clock.now
	if _, err := x.Upsert(ctx, many); err != nil {
		t.Fatal(err)
	}
	plain, err := x.SearchResult(ctx, Query{Text: "travel policy", K: 30})
	if err != nil || plain.Rerank != nil || len(plain.Hits) != 30 {
		t.Fatalf("without rerank: %d hits, report %+v, %v", len(plain.Hits), plain.Rerank, err)
	}
	res, err := x.SearchResult(ctx, Query{Text: "travel policy", K: 30, Rerank: &RerankOptions{TopN: 20, Budget: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Rerank
	if r == nil || r.Candidates != 20 || r.Reranked != 5 || !r.Truncated || r.ElapsedMS != 187.5 {
		t.Fatalf("report %+v, want 5 of 20 re-ranked in 187.5 ms, truncated", r)
	}
	for i, h := range res.Hits {
		if h.Reranked != (i < 5) {
			t.Fatalf("hit %d reranked %v", i, h.Reranked)
		}
		if i > 0 && i < 5 && h.Score > res.Hits[i-1].Score {
			t.Fatalf("re-ranked hits out of order: %v then %v", res.Hits[i-1].Score, h.Score)
		}
		if i >= 5 && h.ChunkID != plain.Hits[i].ChunkID {
			t.Fatalf("hit %d = %s, want %s in fused order", i, h.ChunkID, plain.Hits[i].ChunkID)
		}
	}
	// A fast cross-encoder scores them all.
	rr.perPair = steady(time.Millisecond)
	res, err = x.SearchResult(ctx, Query{Text: "travel policy", K: 10, Rerank: &RerankOptions{TopN: 20}})
	if err != nil || res.Rerank == nil || res.Rerank.Reranked != 20 || res.Rerank.Truncated || len(res.Hits) != 10 {
		t.Fatalf("fast rerank: %+v, %d hits, %v", res.Rerank, len(res.Hits), err)
	}
}
