package rag

import (
	"container/heap"
	"math"
	"sort"
	"sync"
)

// BM25 is an inverted index scored with Lucene's BM25 (idf = ln(1 + (N − df
// + 0.5)/(df + 0.5)), tf part tf/(tf + k1·(1 − b + b·dl/avgdl))). Documents
// are addressed by ordinal; deleted ordinals stay in the postings (as in
// Lucene until a merge) and are skipped at search time. Not safe for
// concurrent writes; Index serialises them.
type BM25 struct {
	K1, B    float64
	Postings map[string][]Posting // term → postings in ordinal order
	DocLen   []int32              // ordinal → length in terms
	Deleted  []bool               // ordinal → deleted
	Live     int                  // live documents
	TotalLen int64                // sum of live lengths

	acc sync.Pool // *scoreAcc, reused across searches
}

// Posting is one document's term frequency.
type Posting struct {
	Ord int32
	TF  int32
}

// NewBM25 returns an empty index with the given parameters (Lucene's
// defaults are k1 = 1.2, b = 0.75).
func NewBM25(k1, b float64) *BM25 {
	return &BM25{K1: k1, B: b, Postings: map[string][]Posting{}}
}

// Add indexes a document's terms and returns its ordinal.
func (x *BM25) Add(terms []string) int {
	ord := int32(len(x.DocLen))
	tf := map[string]int32{}
	for _, t := range terms {
		tf[t]++
	}
	for t, n := range tf {
		x.Postings[t] = append(x.Postings[t], Posting{Ord: ord, TF: n})
	}
	x.DocLen = append(x.DocLen, int32(len(terms)))
	x.Deleted = append(x.Deleted, false)
	x.Live++
	x.TotalLen += int64(len(terms))
	return int(ord)
}

// Delete removes a document from results and from the collection statistics.
func (x *BM25) Delete(ord int) {
	if ord < 0 || ord >= len(x.Deleted) || x.Deleted[ord] {
		return
	}
	x.Deleted[ord] = true
	x.Live--
	x.TotalLen -= int64(x.DocLen[ord])
}

// Scored is a search result: an ordinal and its score.
type Scored struct {
	Ord   int
	Score float64
}

// IDF is Lucene's BM25 idf for a term with document frequency df among n
// documents.
func IDF(n, df int) float64 {
	return math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
}

// Search returns the top k live documents for the query terms, best first
// (ties by ordinal), keeping only documents the filter accepts (nil: all).
// Scores accumulate in a pooled dense array indexed by ordinal (a map costs
// several times more per posting on large collections).
func (x *BM25) Search(terms []string, k int, filter func(ord int) bool) []Scored {
	if x.Live == 0 || k <= 0 {
		return nil
	}
	avgdl := float64(x.TotalLen) / float64(x.Live)
	noDeletes := x.Live == len(x.DocLen)
	acc := x.accumulator()
	defer x.acc.Put(acc)
	seen := map[string]bool{}
	for _, t := range terms {
		if seen[t] {
			// Lucene's BooleanQuery sums a repeated term twice; whet's query
			// parser treats the query as a set, as most users expect.
			continue
		}
		seen[t] = true
		ps := x.Postings[t]
		if len(ps) == 0 {
			continue
		}
		df := len(ps)
		if !noDeletes {
			df = 0
			for _, p := range ps {
				if !x.Deleted[p.Ord] {
					df++
				}
			}
		}
		if df == 0 {
			continue
		}
		idf := IDF(x.Live, df)
		k1b, k1nb := x.K1*x.B/avgdl, x.K1*(1-x.B)
		for _, p := range ps {
			if !noDeletes && x.Deleted[p.Ord] {
				continue
			}
			tf := float64(p.TF)
			norm := k1nb + k1b*float64(x.DocLen[p.Ord])
			if acc.scores[p.Ord] == 0 {
				acc.touched = append(acc.touched, p.Ord)
			}
			acc.scores[p.Ord] += idf * tf / (tf + norm)
		}
	}
	h := &minHeap{}
	for _, ord := range acc.touched {
		s := acc.scores[ord]
		acc.scores[ord] = 0
		if filter != nil && !filter(int(ord)) {
			continue
		}
		pushTop(h, Scored{Ord: int(ord), Score: s}, k)
	}
	acc.touched = acc.touched[:0]
	return drain(h)
}

// scoreAcc is a search's dense score array (all zero between searches) and
// the ordinals it touched.
type scoreAcc struct {
	scores  []float64
	touched []int32
}

func (x *BM25) accumulator() *scoreAcc {
	a, _ := x.acc.Get().(*scoreAcc)
	if a == nil {
		a = &scoreAcc{}
	}
	if n := len(x.DocLen); len(a.scores) < n {
		a.scores = append(a.scores, make([]float64, n-len(a.scores))...)
	}
	return a
}

// minHeap keeps the k best results with the worst on top.
type minHeap []Scored

func (h minHeap) Len() int { return len(h) }
func (h minHeap) Less(i, j int) bool {
	if h[i].Score != h[j].Score {
		return h[i].Score < h[j].Score
	}
	return h[i].Ord > h[j].Ord
}
func (h minHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)   { *h = append(*h, x.(Scored)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func pushTop(h *minHeap, s Scored, k int) {
	if h.Len() < k {
		heap.Push(h, s)
		return
	}
	top := (*h)[0]
	if s.Score > top.Score || (s.Score == top.Score && s.Ord < top.Ord) {
		(*h)[0] = s
		heap.Fix(h, 0)
	}
}

func drain(h *minHeap) []Scored {
	out := make([]Scored, h.Len())
	copy(out, *h)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Ord < out[j].Ord
	})
	return out
}
