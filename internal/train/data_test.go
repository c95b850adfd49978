package train

import (
	"slices"
	"testing"
)

// TestPromptTokens: the prompt of a record is encoded as SFT encodes it,
// whatever the record's answer, and a chat may end with the user's turn.
func TestPromptTokens(t *testing.T) {
	enc := func(s string) []int {
		out := make([]int, len(s))
		for i := range s {
			out[i] = int(s[i])
		}
		return out
	}
	f := Formatter{Encode: enc, BOS: 1, EOS: 2}
	rec := Record{Instruction: "hi", Output: "yo"}
	ex, err := f.SFT(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Record{rec, {Instruction: "hi"}, {Messages: []Message{{Role: "user", Content: "hi"}}}} {
		p, err := f.PromptTokens(r)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p, ex.Tokens[:len(p)]) || ex.Targets[len(p)-1] != 'y' || ex.Targets[len(p)-2] != -1 {
			t.Errorf("%+v: prompt %v is not the SFT example's prompt", r, p)
		}
	}
	if _, err := f.PromptTokens(Record{}); err == nil {
		t.Error("an empty record gave a prompt")
	}
}
