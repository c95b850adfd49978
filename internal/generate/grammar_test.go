package generate

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/whet-dev/whet/internal/grammar"
)

// TestJSONSchemaMasker plugs internal/grammar's matcher in as the Masker:
// a random tiny model sampling at temperature 1 must still produce JSON
// that matches the schema.
func TestJSONSchemaMasker(t *testing.T) {
	m := tinyModel(t, "qwen2")
	tok := byteTok{}
	vocab := make([][]byte, m.Config.VocabSize)
	for id := range vocab {
		if !tok.IsSpecial(id) {
			vocab[id] = tok.TokenBytes(id)
		}
	}
	v := grammar.NewVocab(vocab)
	gr, err := grammar.Compile([]byte(`{"type":"object","properties":{"n":{"type":"integer"},"ok":{"type":"boolean"}},"required":["n","ok"],"additionalProperties":false}`))
	if err != nil {
		t.Fatal(err)
	}
	g := &Generator{Model: m, Tok: tok}
	finished := 0
	for seed := uint64(0); seed < 4; seed++ {
		res, err := g.Generate(context.Background(), Request{Prompt: []int{1, 5}, MaxTokens: 200, StopTokens: []int{2},
			Masker: gr.NewMatcher(v), Sampling: Sampling{Temperature: 1, Seed: seed}})
		if err != nil {
			t.Fatal(err)
		}
		if res.FinishReason != FinishStop {
			t.Logf("seed %d: ran out of tokens: %q", seed, res.Text)
			continue
		}
		finished++
		var out struct {
			N  *json.Number `json:"n"`
			OK *bool        `json:"ok"`
		}
		if err := json.Unmarshal([]byte(res.Text), &out); err != nil || out.N == nil || out.OK == nil {
			t.Errorf("seed %d: %q: %v", seed, res.Text, err)
		}
	}
	if finished == 0 {
		t.Error("no run completed its JSON value")
	}
}
