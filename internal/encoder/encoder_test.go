package encoder

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// golden is testdata/golden.json, written by scripts/golden/bert_golden.py.
type golden struct {
	Embed struct {
		Texts          []string    `json:"texts"`
		IDs            [][]int     `json:"ids"`
		CLS            [][]float64 `json:"cls"`
		Mean           [][]float64 `json:"mean"`
		MeanNormalized [][]float64 `json:"mean_normalized"`
	} `json:"embed"`
	Cross struct {
		Query    string    `json:"query"`
		Passages []string  `json:"passages"`
		IDs      [][]int   `json:"ids"`
		TypeIDs  [][]int   `json:"type_ids"`
		Logits   []float64 `json:"logits"`
	} `json:"cross"`
}

func loadGolden(t testing.TB) golden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// relTol is the stated tolerance: |got-want| <= relTol·max(|want|, 1e-2·scale), where
// scale is the vector's largest magnitude (so tiny components are judged relative to
// the vector, not to themselves).
const relTol = 1e-4

func closeVec(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", what, len(got), len(want))
	}
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	for i := range want {
		lim := tol * math.Max(math.Abs(want[i]), 1e-2*scale)
		if d := math.Abs(float64(got[i]) - want[i]); d > lim {
			t.Fatalf("%s[%d] = %v, want %v (diff %.3g > %.3g)", what, i, got[i], want[i], d, lim)
		}
	}
}

func inputs(ids [][]int, types [][]int) []Input {
	out := make([]Input, len(ids))
	for i := range ids {
		out[i].IDs = ids[i]
		if types != nil {
			out[i].TypeIDs = types[i]
		}
	}
	return out
}

func TestEmbedGolden(t *testing.T) {
	g := loadGolden(t)
	f, tr := false, true
	tests := []struct {
		name string
		opts Options
		want [][]float64
	}{
		{"defaults: mean pooling and Normalize module", Options{}, g.Embed.MeanNormalized},
		{"cls", Options{Pooling: PoolCLS, Normalize: &f}, g.Embed.CLS},
		{"mean", Options{Pooling: PoolMean, Normalize: &f}, g.Embed.Mean},
		{"mean normalized", Options{Pooling: PoolMean, Normalize: &tr}, g.Embed.MeanNormalized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Load(filepath.Join("testdata", "tiny-bert"), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.EmbedIDs(context.Background(), inputs(g.Embed.IDs, nil))
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.want {
				closeVec(t, tt.name, got[i], tt.want[i], relTol)
			}
			// A sequence alone gives the same vector as inside a padded batch.
			one, err := m.EmbedIDs(context.Background(), inputs(g.Embed.IDs[1:2], nil))
			if err != nil {
				t.Fatal(err)
			}
			closeVec(t, tt.name+" alone", one[0], tt.want[1], relTol)
		})
	}
}

func TestCrossEncoderGolden(t *testing.T) {
	g := loadGolden(t)
	m, err := Load(filepath.Join("testdata", "tiny-cross"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	logits, err := m.Logits(context.Background(), inputs(g.Cross.IDs, g.Cross.TypeIDs))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, len(logits))
	for i, l := range logits {
		got[i] = l[0]
	}
	closeVec(t, "logits", got, g.Cross.Logits, relTol)
}

// wordTokenizer maps whitespace-separated words through a fixed vocabulary, enough to
// drive Score and Embed without importing the tokenizer package.
type wordTokenizer map[string]int

func (w wordTokenizer) Encode(text string, addSpecial bool) []int {
	var ids []int
	if addSpecial {
		ids = append(ids, 2)
	}
	start := -1
	for i := 0; i <= len(text); i++ {
		if i == len(text) || text[i] == ' ' {
			if start >= 0 {
				ids = append(ids, w[text[start:i]])
			}
			start = -1
		} else if start < 0 {
			start = i
		}
	}
	if addSpecial {
		ids = append(ids, 3)
	}
	return ids
}

func testTokenizer(t *testing.T) wordTokenizer {
	data, err := os.ReadFile(filepath.Join("testdata", "tiny-bert", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tj struct {
		Model struct {
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
	}
	if err := json.Unmarshal(data, &tj); err != nil {
		t.Fatal(err)
	}
	return wordTokenizer(tj.Model.Vocab)
}

func TestScoreAndEmbedText(t *testing.T) {
	g := loadGolden(t)
	tok := testTokenizer(t)
	cross, err := Load(filepath.Join("testdata", "tiny-cross"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	scores, err := cross.Score(context.Background(), tok, g.Cross.Query, g.Cross.Passages)
	if err != nil {
		t.Fatal(err)
	}
	closeVec(t, "scores", scores, g.Cross.Logits, relTol)

	emb, err := Load(filepath.Join("testdata", "tiny-bert"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	vecs, err := emb.Embed(context.Background(), tok, g.Embed.Texts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range g.Embed.Texts {
		closeVec(t, g.Embed.Texts[i], vecs[i], g.Embed.MeanNormalized[i], relTol)
	}
}

func TestInt8CloseToF32(t *testing.T) {
	g := loadGolden(t)
	m, err := Load(filepath.Join("testdata", "tiny-bert"), Options{Int8: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.EmbedIDs(context.Background(), inputs(g.Embed.IDs, nil))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range g.Embed.MeanNormalized {
		var dot float64
		for j := range want {
			dot += float64(got[i][j]) * want[j]
		}
		// Both are unit vectors; int8 per-channel weights keep them within 1% in angle.
		if dot < 0.99 {
			t.Errorf("sequence %d: cosine(int8, f32 reference) = %.4f < 0.99", i, dot)
		}
	}
}

func TestInputErrors(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "tiny-bert"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	long := make([]int, m.Config.MaxPositionEmbeddings+1)
	for _, in := range []Input{
		{},
		{IDs: []int{2, 999, 3}},
		{IDs: []int{2, -1, 3}},
		{IDs: long},
		{IDs: []int{2, 3}, TypeIDs: []int{0}},
		{IDs: []int{2, 3}, TypeIDs: []int{0, 7}},
	} {
		if _, err := m.EmbedIDs(context.Background(), []Input{in}); !errors.Is(err, ErrInput) {
			t.Errorf("EmbedIDs(%v) err = %v, want ErrInput", in, err)
		}
	}
	if _, err := m.Logits(context.Background(), []Input{{IDs: []int{2, 3}}}); !errors.Is(err, ErrConfig) {
		t.Errorf("Logits on an embedding model: err = %v, want ErrConfig", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.EmbedIDs(ctx, []Input{{IDs: []int{2, 3}}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir, Options{}); err == nil {
		t.Fatal("loaded a folder without config.json")
	}
	bad := map[string]string{
		"heads":    `{"vocab_size":10,"hidden_size":10,"num_hidden_layers":1,"num_attention_heads":3,"intermediate_size":4,"max_position_embeddings":8}`,
		"act":      `{"vocab_size":10,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":4,"max_position_embeddings":8,"hidden_act":"swish"}`,
		"relative": `{"vocab_size":10,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":4,"max_position_embeddings":8,"position_embedding_type":"relative_key"}`,
	}
	for name, cfg := range bad {
		t.Run(name, func(t *testing.T) {
			d := t.TempDir()
			if err := os.WriteFile(filepath.Join(d, "config.json"), []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(d, Options{}); !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
	// Weights that do not match the config.
	d := t.TempDir()
	cfg, _ := os.ReadFile(filepath.Join("testdata", "tiny-bert", "config.json"))
	var c map[string]any
	_ = json.Unmarshal(cfg, &c)
	c["hidden_size"] = 64
	data, _ := json.Marshal(c)
	_ = os.WriteFile(filepath.Join(d, "config.json"), data, 0o644)
	st, _ := os.ReadFile(filepath.Join("testdata", "tiny-bert", "model.safetensors"))
	_ = os.WriteFile(filepath.Join(d, "model.safetensors"), st, 0o644)
	if _, err := Load(d, Options{}); !errors.Is(err, ErrWeights) {
		t.Fatalf("mismatched weights: err = %v, want ErrWeights", err)
	}
}

func TestGELUApproximation(t *testing.T) {
	for x := -8.0; x <= 8.0; x += 0.001 {
		want := 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
		got := float64(geluErf(float32(x)))
		if d := math.Abs(got - want); d > 2e-7*math.Max(1, math.Abs(x)) {
			t.Fatalf("geluErf(%v) = %v, want %v", x, got, want)
		}
	}
}
