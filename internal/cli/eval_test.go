package cli

import (
	"maps"
	"testing"

	"github.com/whet-dev/whet/internal/eval"
)

func TestJudgedNames(t *testing.T) {
	qrels := eval.Qrels{
		"q1": {"policies/expense.md": 2, "hr/leave.docx": 1},
		"q2": {"policies/travel.md": 1, "archive/travel.md": 1}, // same name twice: ambiguous
		"q3": {"notes.txt": 1, "old/notes.txt": 1},              // a bare judged id keeps its name
		"q4": {"policies/expense.md": 1},
	}
	want := map[string]string{"expense.md": "policies/expense.md", "leave.docx": "hr/leave.docx"}
	if got := judgedNames(qrels); !maps.Equal(got, want) {
		t.Fatalf("judgedNames = %v, want %v", got, want)
	}
}
