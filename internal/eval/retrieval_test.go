package eval

import (
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// Hand-computed cases.
func TestRetrievalMetricsByHand(t *testing.T) {
	rel := map[string]int{"a": 2, "b": 1, "c": 1}
	ranked := []string{"x", "a", "y", "b"}
	if got := MRR(ranked, rel, 10); !near(got, 0.5) {
		t.Errorf("MRR = %v, want 0.5", got)
	}
	// DCG = 2/log2(3) + 1/log2(5); IDCG = 2/log2(2) + 1/log2(3) + 1/log2(4).
	dcg := 2/math.Log2(3) + 1/math.Log2(5)
	idcg := 2.0 + 1/math.Log2(3) + 0.5
	if got := NDCG(ranked, rel, 10); !near(got, dcg/idcg) {
		t.Errorf("nDCG = %v, want %v", got, dcg/idcg)
	}
	// At k=2 only "a" counts; the ideal list is a, then b or c.
	if got, want := NDCG(ranked, rel, 2), (2/math.Log2(3))/(2+1/math.Log2(3)); !near(got, want) {
		t.Errorf("nDCG@2 = %v, want %v", got, want)
	}
	if got := Recall(ranked, rel, 10); !near(got, 2.0/3) {
		t.Errorf("recall = %v", got)
	}
	if got := Precision(ranked, rel, 4); !near(got, 0.5) {
		t.Errorf("precision@4 = %v", got)
	}
	if MRR([]string{"x"}, rel, 10) != 0 || NDCG(nil, rel, 10) != 0 {
		t.Error("no relevant result must score 0")
	}
	if got := NDCG([]string{"a", "b", "c"}, rel, 10); !near(got, 1) {
		t.Errorf("ideal ranking nDCG = %v", got)
	}
}

func TestReadersAndEvaluate(t *testing.T) {
	qs, err := ReadQueries(strings.NewReader(`{"_id":"q1","text":"travel"}` + "\n\n" + `{"_id":"q2","text":"refund"}`))
	if err != nil || len(qs) != 2 || qs[1].Text != "refund" {
		t.Fatalf("queries %v %v", qs, err)
	}
	qr, err := ReadQrels(strings.NewReader("query-id\tcorpus-id\tscore\nq1\tdoc1\t2\nq1\tdoc2\t1\nq2 0 doc3 1\nq3\tdoc9\t0\n"))
	if err != nil || qr["q1"]["doc1"] != 2 || qr["q2"]["doc3"] != 1 {
		t.Fatalf("qrels %v %v", qr, err)
	}
	m := Evaluate(map[string][]string{"q1": {"doc1", "doc2"}, "q2": {"zz", "doc3"}}, qr, 10)
	if m.Queries != 2 || !near(m.MRR, 0.75) || !near(m.Recall, 1) {
		t.Fatalf("metrics %+v", m)
	}
	if _, err := ReadQrels(strings.NewReader("q1 doc1 high\n")); err == nil {
		t.Fatal("bad score accepted")
	}
}
