package eval

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Qrels maps query id → document id → graded relevance (> 0 is relevant).
type Qrels map[string]map[string]int

// Query is one test query.
type Query struct {
	ID   string `json:"_id"`
	Text string `json:"text"`
}

// ErrFormat reports a malformed queries or qrels file.
var ErrFormat = errors.New("eval: malformed file")

// ReadQueries reads BEIR queries.jsonl ({"_id","text"} per line).
func ReadQueries(r io.Reader) ([]Query, error) {
	var out []Query
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		var q Query
		if err := json.Unmarshal([]byte(s), &q); err != nil || q.ID == "" {
			return nil, fmt.Errorf("%w: queries line %d: want {\"_id\",\"text\"}", ErrFormat, line)
		}
		out = append(out, q)
	}
	return out, sc.Err()
}

// ReadQrels reads TREC/BEIR qrels: "query-id corpus-id score" per line,
// tab- or space-separated, an optional header line, and the 4-column TREC
// form "qid 0 docid score".
func ReadQrels(r io.Reader) (Qrels, error) {
	q := Qrels{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if line == 1 && (f[0] == "query-id" || f[0] == "qid") {
			continue
		}
		var qid, did, score string
		switch len(f) {
		case 3:
			qid, did, score = f[0], f[1], f[2]
		case 4:
			qid, did, score = f[0], f[2], f[3]
		default:
			return nil, fmt.Errorf("%w: qrels line %d: want query-id, corpus-id, score", ErrFormat, line)
		}
		n, err := strconv.Atoi(score)
		if err != nil {
			return nil, fmt.Errorf("%w: qrels line %d: score %q is not an integer", ErrFormat, line, score)
		}
		if q[qid] == nil {
			q[qid] = map[string]int{}
		}
		q[qid][did] = n
	}
	return q, sc.Err()
}

// RetrievalMetrics are averages over the queries that have relevant
// documents.
type RetrievalMetrics struct {
	Queries   int                `json:"queries"`
	MRR       float64            `json:"mrr@k"`
	NDCG      float64            `json:"ndcg@k"`
	Recall    float64            `json:"recall@k"`
	Precision float64            `json:"precision@k"`
	K         int                `json:"k"`
	PerQuery  map[string]float64 `json:"ndcg_per_query,omitempty"`
}

// MRR is the reciprocal rank of the first relevant result within the first k.
func MRR(ranked []string, rel map[string]int, k int) float64 {
	for i, d := range ranked {
		if i >= k {
			break
		}
		if rel[d] > 0 {
			return 1 / float64(i+1)
		}
	}
	return 0
}

// NDCG is normalised discounted cumulative gain at k with graded gains
// (gain = relevance, discount = log2(rank+1)), as trec_eval and BEIR compute it.
func NDCG(ranked []string, rel map[string]int, k int) float64 {
	dcg := 0.0
	for i, d := range ranked {
		if i >= k {
			break
		}
		if g := rel[d]; g > 0 {
			dcg += float64(g) / math.Log2(float64(i+2))
		}
	}
	var gains []int
	for _, g := range rel {
		if g > 0 {
			gains = append(gains, g)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(gains)))
	idcg := 0.0
	for i, g := range gains {
		if i >= k {
			break
		}
		idcg += float64(g) / math.Log2(float64(i+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

// Recall is the share of relevant documents found in the first k.
func Recall(ranked []string, rel map[string]int, k int) float64 {
	total := 0
	for _, g := range rel {
		if g > 0 {
			total++
		}
	}
	if total == 0 {
		return 0
	}
	return float64(hits(ranked, rel, k)) / float64(total)
}

// Precision is the share of the first k results that are relevant.
func Precision(ranked []string, rel map[string]int, k int) float64 {
	if k <= 0 {
		return 0
	}
	return float64(hits(ranked, rel, k)) / float64(k)
}

func hits(ranked []string, rel map[string]int, k int) int {
	n := 0
	seen := map[string]bool{}
	for i, d := range ranked {
		if i >= k {
			break
		}
		if rel[d] > 0 && !seen[d] {
			n++
		}
		seen[d] = true
	}
	return n
}

// Evaluate averages the metrics at k over every query in qrels with at least
// one relevant document; a query with no results scores 0.
func Evaluate(results map[string][]string, qrels Qrels, k int) RetrievalMetrics {
	m := RetrievalMetrics{K: k, PerQuery: map[string]float64{}}
	for qid, rel := range qrels {
		any := false
		for _, g := range rel {
			if g > 0 {
				any = true
			}
		}
		if !any {
			continue
		}
		ranked := results[qid]
		m.Queries++
		m.MRR += MRR(ranked, rel, k)
		n := NDCG(ranked, rel, k)
		m.PerQuery[qid] = n
		m.NDCG += n
		m.Recall += Recall(ranked, rel, k)
		m.Precision += Precision(ranked, rel, k)
	}
	if m.Queries > 0 {
		q := float64(m.Queries)
		m.MRR, m.NDCG, m.Recall, m.Precision = m.MRR/q, m.NDCG/q, m.Recall/q, m.Precision/q
	}
	return m
}
