package encoder

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteRandomLoads(t *testing.T) {
	for _, cross := range []bool{false, true} {
		cfg, err := Preset("tiny", cross)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := WriteRandom(dir, cfg, 1); err != nil {
			t.Fatal(err)
		}
		m, err := Load(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if m.Config.IsClassifier() != cross || m.Dim() != 64 || len(m.layers) != 2 {
			t.Fatalf("loaded %+v", m.Config)
		}
		batch := []Input{{IDs: []int{2, 100, 200, 3, 300, 3}, TypeIDs: []int{0, 0, 0, 0, 1, 1}}, {IDs: []int{2, 101, 3, 400, 3}, TypeIDs: []int{0, 0, 0, 1, 1}}}
		var out [][]float32
		if cross {
			out, err = m.Logits(context.Background(), batch)
		} else {
			out, err = m.EmbedIDs(context.Background(), batch)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range out {
			for _, v := range row {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("non-finite output %v", out)
				}
			}
		}
		if out[0][0] == out[1][0] {
			t.Fatalf("different inputs, same output %v", out)
		}
		// The tokenizer holds exactly vocab_size distinct entries.
		var tok struct {
			Model struct {
				Vocab map[string]int `json:"vocab"`
			} `json:"model"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &tok); err != nil {
			t.Fatal(err)
		}
		if len(tok.Model.Vocab) != cfg.VocabSize || tok.Model.Vocab["[CLS]"] != 2 || tok.Model.Vocab["[SEP]"] != 3 {
			t.Fatalf("vocab of %d entries", len(tok.Model.Vocab))
		}
	}
	if _, err := Preset("nope", true); err == nil {
		t.Fatal("unknown preset accepted")
	}
	if c, err := Preset("minilm-l6", true); err != nil || c.HiddenSize != 384 || c.NumHiddenLayers != 6 || c.NumAttentionHeads != 12 {
		t.Fatalf("minilm-l6: %+v %v", c, err)
	}
}
