package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchSearchSmall(t *testing.T) {
	code, out, errOut := runJobsCLI(t, nil, "bench", "search", "--chunks", "3000", "--dense-chunks", "600", "--dim", "32", "--queries", "40", "--concurrency", "3", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep benchSearchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Chunks != 3000 || rep.DenseChunks != 600 || rep.MeanChunkTerms < 40 || rep.MeanChunkTerms > 120 {
		t.Fatalf("report %+v", rep)
	}
	if rep.DenseRecall10 <= 0.5 || rep.DenseRecall10 > 1 {
		t.Fatalf("recall@10 %v", rep.DenseRecall10)
	}
	var paths []string
	for _, l := range rep.Latency {
		paths = append(paths, l.Path)
		if l.Queries != 40 || l.P50ms > l.P95ms || l.P95ms > l.P99ms || l.QPS <= 0 {
			t.Fatalf("latency row %+v", l)
		}
	}
	if got := strings.Join(paths, ","); got != "bm25,bm25,dense,dense,hybrid,hybrid" {
		t.Fatalf("paths %s", got)
	}
}

func TestBenchSearchCollection(t *testing.T) {
	examples := filepath.Join("..", "..", "examples")
	if _, err := os.Stat(filepath.Join(examples, "retrieval", "queries.jsonl")); err != nil {
		t.Skip("examples/ not present")
	}
	export := filepath.Join(t.TempDir(), "chunks.jsonl")
	code, out, errOut := runJobsCLI(t, nil, "bench", "search", "--collection", examples, "--export", export, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep benchQualityReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	// A floor well under the measured 0.85: catches a broken analyzer,
	// chunker or file-level matching without pinning the exact figure.
	if rep.Queries < 50 || rep.Chunks == 0 || rep.NDCG10 < 0.6 || rep.MRR10 < 0.6 {
		t.Fatalf("report %+v", rep)
	}
	b, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != rep.Chunks {
		t.Fatalf("exported %d chunks, report says %d", n, rep.Chunks)
	}
}

func TestBenchSearchRerankInit(t *testing.T) {
	code, out, errOut := runJobsCLI(t, nil, "bench", "search", "--chunks", "1500", "--dense-chunks", "300", "--dim", "16", "--queries", "12",
		"--concurrency", "2", "--reranker-init", "tiny", "--rerank-tokens", "64", "--rerank-budget", "1h", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep benchSearchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, l := range rep.Latency {
		paths = append(paths, l.Path)
	}
	if got := strings.Join(paths, ","); got != "bm25,bm25,dense,dense,hybrid,hybrid,hybrid+rerank50,hybrid+rerank50,hybrid+rerank50/budget,hybrid+rerank50/budget" {
		t.Fatalf("paths %s", got)
	}
	// An hour's budget scores every candidate; pairs respect the cap.
	if rep.RerankPairTokens <= 3 || rep.RerankPairTokens > 64 || rep.RerankBudgetScored < 10 || rep.RerankBudgetScored > 50 {
		t.Fatalf("rerank report: %v tokens per pair, %v scored", rep.RerankPairTokens, rep.RerankBudgetScored)
	}
}
