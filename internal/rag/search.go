package rag

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Query is a search request.
type Query struct {
	Text       string
	K          int
	Mode       string         // bm25, dense or hybrid; default hybrid when the index has vectors
	Fusion     string         // rrf (default) or weighted
	Weights    [2]float64     // BM25 and dense weights: weighted fusion (default 0.5/0.5) or weighted RRF (default 1/1)
	Filters    map[string]any // metadata equality, any-of lists, ranges ({"gte":…}) and *_after/*_before
	Sources    []string       // source whitelist (prefixes of the source URI)
	AccessTags []string       // nil: no restriction; otherwise a chunk's access tag must be listed
	Rerank     *RerankOptions // cross-encoder re-ranking of the fused top N
	Candidates int            // per-retriever depth before fusion; default max(50, 4k)
}

// RerankOptions bound re-ranking.
type RerankOptions struct {
	TopN   int           // re-rank this many fused candidates; default 50
	Budget time.Duration // stop scoring when spent; default 200 ms
}

// Hit is one search result.
type Hit struct {
	Score      float64  `json:"score"`
	ChunkID    string   `json:"chunk_id"`
	Text       string   `json:"text"`
	ParentText string   `json:"parent_text"`
	Citation   Citation `json:"citation"`
	Reranked   bool     `json:"reranked,omitempty"`
}

// Citation says where a hit's text comes from.
type Citation struct {
	DocumentID  string   `json:"document_id"`
	Source      string   `json:"source"`
	SectionPath []string `json:"section_path"`
	// Span is the chunk's [start, end) in characters (Unicode code points)
	// of the indexed document text; ByteSpan the same in UTF-8 bytes.
	Span     [2]int `json:"span" doc:"[start, end) of the chunk in characters (Unicode code points) of the indexed document text."`
	ByteSpan [2]int `json:"byte_span" doc:"The same span in UTF-8 bytes."`
}

// ErrQuery reports an invalid query; *QueryError names the field.
var ErrQuery = errors.New("rag: invalid query")

// QueryError is an invalid query field.
type QueryError struct {
	Field, Message string
}

func (e *QueryError) Error() string { return fmt.Sprintf("rag: %s: %s", e.Field, e.Message) }
func (e *QueryError) Unwrap() error { return ErrQuery }

// MaxQueryBytes bounds a query's text.
const MaxQueryBytes = 8 << 10

// Result is a search's hits and what re-ranking did.
type Result struct {
	Version int // the index version that answered
	Hits    []Hit
	Rerank  *RerankReport // nil unless re-ranking was asked for and the index has a cross-encoder
}

// RerankReport says how much of a re-rank fitted in its time budget.
type RerankReport struct {
	Candidates int     `json:"candidates" doc:"Fused candidates offered to the cross-encoder: top_n, or fewer when fewer were found."`
	Reranked   int     `json:"reranked" doc:"Candidates the cross-encoder scored; they come first, best first."`
	Truncated  bool    `json:"truncated" doc:"The budget ran out (or scoring failed or was cancelled) before every candidate was scored; the unscored ones follow the scored ones in fused order."`
	ElapsedMS  float64 `json:"elapsed_ms" doc:"Time spent re-ranking."`
}

// Search runs a query against the current version and returns its hits.
func (x *Index) Search(ctx context.Context, q Query) ([]Hit, error) {
	r, err := x.SearchResult(ctx, q)
	if err != nil {
		return nil, err
	}
	return r.Hits, nil
}

// SearchResult runs a query against the current version and reports, besides
// the hits, how far re-ranking got within its budget.
func (x *Index) SearchResult(ctx context.Context, q Query) (*Result, error) {
	if strings.TrimSpace(q.Text) == "" {
		return nil, &QueryError{"query", "must not be empty"}
	}
	if len(q.Text) > MaxQueryBytes {
		return nil, &QueryError{"query", fmt.Sprintf("longer than %d bytes", MaxQueryBytes)}
	}
	if q.K <= 0 || q.K > 1000 {
		return nil, &QueryError{"k", "must be between 1 and 1000"}
	}
	x.mu.RLock()
	st := x.st
	hasDense := st.HNSW != nil
	mode := q.Mode
	if mode == "" {
		mode = "bm25"
		if hasDense {
			mode = "hybrid"
		}
	}
	x.mu.RUnlock()
	switch mode {
	case "bm25", "hybrid", "dense":
	default:
		return nil, &QueryError{"mode", "must be bm25, dense or hybrid"}
	}
	if mode != "bm25" && !hasDense {
		return nil, &QueryError{"hybrid", "this index is BM25-only (created without an embedding model)"}
	}
	var qvec []float32
	if mode != "bm25" {
		vs, err := x.emb.Embed(ctx, []string{q.Text})
		if err != nil {
			return nil, fmt.Errorf("embed query: %w", err)
		}
		qvec = vs[0]
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	st = x.st
	filter, err := compileFilter(st, q)
	if err != nil {
		return nil, err
	}
	depth := q.Candidates
	if depth <= 0 {
		depth = max(50, 4*q.K)
	}
	if q.Rerank != nil && q.Rerank.TopN > depth {
		depth = q.Rerank.TopN
	}
	var sparse, dense []Scored
	if mode != "dense" {
		sparse = st.BM25.Search(x.an.Tokens(q.Text), depth, filter)
	}
	if mode != "bm25" {
		sparse2 := st.HNSW.Search(qvec, depth, 0, filter)
		dense = sparse2
	}
	var fused []Scored
	switch {
	case mode == "bm25":
		fused = sparse
	case mode == "dense":
		fused = dense
	case q.Fusion == "weighted":
		w := q.Weights
		if w[0] == 0 && w[1] == 0 {
			w = [2]float64{0.5, 0.5}
		}
		fused = WeightedFusion([][]Scored{sparse, dense}, w[:])
	case (q.Fusion == "" || q.Fusion == "rrf") && q.Weights != [2]float64{}:
		fused = WeightedRRF([][]Scored{sparse, dense}, 60, q.Weights[:])
	case q.Fusion == "" || q.Fusion == "rrf":
		fused = RRF([][]Scored{sparse, dense}, 60)
	default:
		return nil, &QueryError{"fusion", "must be rrf or weighted"}
	}
	hits := make([]Hit, 0, len(fused))
	for _, s := range fused {
		c := st.Chunks[s.Ord]
		hits = append(hits, Hit{Score: s.Score, ChunkID: c.ID, Text: c.Text, ParentText: st.Parents[c.Parent],
			Citation: citation(c)})
	}
	res := &Result{Version: st.Version}
	if q.Rerank != nil && x.rr != nil && len(hits) > 0 {
		res.Rerank = x.rerank(ctx, q, hits)
	}
	if len(hits) > q.K {
		hits = hits[:q.K]
	}
	res.Hits = hits
	return res, nil
}

// rerank scores the top N hits with the cross-encoder within the time
// budget (ScoreWithin); scored hits come first, in score order, and the rest
// keep their fused order behind them.
func (x *Index) rerank(ctx context.Context, q Query, hits []Hit) *RerankReport {
	n := q.Rerank.TopN
	if n <= 0 {
		n = 50
	}
	n = min(n, len(hits))
	budget := q.Rerank.Budget
	if budget <= 0 {
		budget = 200 * time.Millisecond
	}
	now := x.Clock
	if now == nil {
		now = time.Now
	}
	start := now()
	texts := make([]string, n)
	for i, h := range hits[:n] {
		texts[i] = h.Text
	}
	scores, _ := ScoreWithin(ctx, x.rr, q.Text, texts, budget, now)
	for i, s := range scores {
		hits[i].Score = float64(s)
		hits[i].Reranked = true
	}
	scored := len(scores)
	sort.SliceStable(hits[:scored], func(i, j int) bool { return hits[i].Score > hits[j].Score })
	return &RerankReport{Candidates: n, Reranked: scored, Truncated: scored < n,
		ElapsedMS: float64(now().Sub(start).Microseconds()) / 1000}
}

// rerankBatch is the most pairs sent to the cross-encoder at once.
const rerankBatch = 8

// ScoreWithin scores passages against query with rr, in order, in batches
// sized to fit what is left of budget (≤ 0: no budget, batches of 8), and
// returns the scores of the leading passages it got to. The first batch is a
// single pair, since nothing is known of the cost yet; after it each batch
// holds as many pairs as the measured cost per pair (the larger of the
// running mean and the last batch's) lets finish before the budget ends, at
// most twice the last batch and at most 8, and scoring stops when not even
// one more pair fits. With a steady cost per pair the total stays within
// the budget, or within the cost of the first pair when that alone exceeds
// it; a cost that rises mid-way overshoots by at most one batch's rise. now is the clock (nil:
// time.Now). A failed or cancelled Score call stops scoring; its error is
// returned with the scores so far.
func ScoreWithin(ctx context.Context, rr Reranker, query string, passages []string, budget time.Duration, now func() time.Time) ([]float32, error) {
	if now == nil {
		now = time.Now
	}
	start := now()
	scores := make([]float32, 0, len(passages))
	var spent, last time.Duration // in Score: in all, in the last batch
	lastN := 0
	for len(scores) < len(passages) {
		if err := ctx.Err(); err != nil {
			return scores, err
		}
		b := min(rerankBatch, len(passages)-len(scores))
		if budget > 0 {
			left := budget - now().Sub(start)
			if len(scores) == 0 {
				b = 1
			} else {
				b = min(b, 2*lastN)
				if per := max(spent/time.Duration(len(scores)), last/time.Duration(lastN)); per > 0 {
					b = min(b, int(left/per))
				}
			}
			if left <= 0 || b < 1 {
				break
			}
		}
		t0 := now()
		s, err := rr.Score(ctx, query, passages[len(scores):len(scores)+b])
		if err == nil && len(s) != b {
			err = fmt.Errorf("rag: reranker gave %d scores for %d passages", len(s), b)
		}
		if err != nil {
			return scores, err
		}
		last, lastN = now().Sub(t0), b
		spent += last
		scores = append(scores, s...)
	}
	return scores, nil
}

// RRF is reciprocal-rank fusion: Σ 1/(k + rank).
func RRF(lists [][]Scored, k float64) []Scored {
	sum := map[int]float64{}
	for _, l := range lists {
		for r, s := range l {
			sum[s.Ord] += 1 / (k + float64(r+1))
		}
	}
	return sortScores(sum)
}

// citation is where a stored chunk comes from. Snapshots written before
// character offsets were kept report the byte span in both fields until
// their documents are upserted again.
func citation(c ChunkRecord) Citation {
	cit := Citation{DocumentID: c.DocID, Source: c.Source, SectionPath: c.SectionPath,
		Span: [2]int{c.CharStart, c.CharEnd}, ByteSpan: [2]int{c.Start, c.End}}
	if c.CharEnd == 0 && c.End > 0 {
		cit.Span = cit.ByteSpan
	}
	return cit
}

// WeightedRRF is RRF with each list's contributions scaled by its weight,
// so a request can lean on one retriever without leaving rank fusion.
func WeightedRRF(lists [][]Scored, k float64, weights []float64) []Scored {
	sum := map[int]float64{}
	for i, l := range lists {
		if weights[i] == 0 {
			continue
		}
		for r, s := range l {
			sum[s.Ord] += weights[i] / (k + float64(r+1))
		}
	}
	return sortScores(sum)
}

// WeightedFusion min-max normalises each list's scores to [0, 1] and sums
// them with the given weights.
func WeightedFusion(lists [][]Scored, weights []float64) []Scored {
	sum := map[int]float64{}
	for i, l := range lists {
		if len(l) == 0 {
			continue
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range l {
			lo, hi = math.Min(lo, s.Score), math.Max(hi, s.Score)
		}
		for _, s := range l {
			v := 1.0
			if hi > lo {
				v = (s.Score - lo) / (hi - lo)
			}
			sum[s.Ord] += weights[i] * v
		}
	}
	return sortScores(sum)
}

func sortScores(m map[int]float64) []Scored {
	out := make([]Scored, 0, len(m))
	for o, s := range m {
		out = append(out, Scored{Ord: o, Score: s})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Ord < out[j].Ord
	})
	return out
}
