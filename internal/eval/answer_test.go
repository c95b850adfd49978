package eval

import (
	"math"
	"testing"
)

func TestAnswerMetrics(t *testing.T) {
	for _, c := range []struct {
		pred, ref string
		em, f1    float64
	}{
		{"The refund is approved.", "refund is approved", 1, 1},
		{"", "", 1, 1},
		{"", "yes", 0, 0},
		{"Within 14 days", "within 30 days", 0, 2.0 / 3}, // 2 of 3 tokens shared both ways
		// pred "a b b c" vs ref "b c d": a dropped as an article → "b b c";
		// shared multiset {b, c} = 2; P = 2/3, R = 2/3.
		{"a b b c", "b c d", 0, 2.0 / 3},
		// pred 4 tokens, ref 2, both shared: P = 1/2, R = 1, F1 = 2/3.
		{"critical fixes within 72h", "within 72h", 0, 2.0 / 3},
		{"no overlap", "entirely different", 0, 0},
	} {
		if got := ExactMatch(c.pred, c.ref); got != c.em {
			t.Errorf("ExactMatch(%q, %q) = %v, want %v", c.pred, c.ref, got, c.em)
		}
		if got := TokenF1(c.pred, c.ref); math.Abs(got-c.f1) > 1e-12 {
			t.Errorf("TokenF1(%q, %q) = %v, want %v", c.pred, c.ref, got, c.f1)
		}
	}
	if got := NormalizeAnswer("  An Answer — with, PUNCTUATION!  "); got != "answer with punctuation" {
		t.Errorf("NormalizeAnswer = %q", got)
	}
}
