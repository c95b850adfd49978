package llm

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestPresetSaveLoadRoundTrip(t *testing.T) {
	for _, arch := range []string{"llama", "mistral", "qwen2"} {
		t.Run(arch, func(t *testing.T) {
			cfg, err := Preset("tiny", arch)
			if err != nil {
				t.Fatal(err)
			}
			m, err := New(cfg, 7)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := m.Save(dir); err != nil {
				t.Fatal(err)
			}
			m2, err := Load(dir, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if m2.Config.Architecture != cfg.Architecture || m2.Config.TieWordEmbeddings != cfg.TieWordEmbeddings ||
				m2.Config.QKVBias != cfg.QKVBias || m2.Config.SlidingWindow != cfg.SlidingWindow {
				t.Errorf("config changed: %+v vs %+v", m2.Config, cfg)
			}
			tokens := []int{1, 5, 9, 300, 42}
			a, err := m.Forward(tokens, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := m2.Forward(tokens, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			if e := maxRelErr(b, a); e != 0 {
				t.Errorf("reloaded model differs: %g", e)
			}
			if m.ParamCount() != cfg.ParamCount() || m.WeightBytes() != 4*cfg.ParamCount() {
				t.Errorf("ParamCount %d WeightBytes %d", m.ParamCount(), m.WeightBytes())
			}
			// Same seed, same weights; different seed, different weights.
			m3, _ := New(cfg, 7)
			c, _ := m3.Forward(tokens, 0, nil)
			if maxRelErr(c, a) != 0 {
				t.Error("New is not deterministic")
			}
			m4, _ := New(cfg, 8)
			d, _ := m4.Forward(tokens, 0, nil)
			if maxRelErr(d, a) == 0 {
				t.Error("seed has no effect")
			}
		})
	}
}

func TestSmolLM2Preset(t *testing.T) {
	c, err := Preset("smollm2-135m", "llama")
	if err != nil {
		t.Fatal(err)
	}
	// SmolLM2-135M has 134,515,008 parameters.
	if got := c.ParamCount(); got != 134515008 {
		t.Errorf("ParamCount = %d, want 134515008", got)
	}
}

func TestConvertDTypes(t *testing.T) {
	cfg, _ := Preset("tiny", "qwen2")
	m, _ := New(cfg, 1)
	tokens := []int{3, 4, 5}
	ref, _ := m.Forward(tokens, 0, nil)
	bounds := map[string]float64{DTypeBF16: 0.01, DTypeInt8: 0.03, DTypeNF4: 0.3}
	for _, dt := range []string{DTypeBF16, DTypeInt8, DTypeNF4} {
		t.Run(dt, func(t *testing.T) {
			q, err := m.Convert(dt)
			if err != nil {
				t.Fatal(err)
			}
			if q.WeightBytes() >= m.WeightBytes() {
				t.Errorf("%s uses %d bytes, f32 %d", dt, q.WeightBytes(), m.WeightBytes())
			}
			got, err := q.Forward(tokens, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			if e := maxRelErr(got, ref); e > bounds[dt] || e == 0 {
				t.Errorf("rel err %g", e)
			}
		})
	}
	if _, err := m.Convert("fp8"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Convert(fp8) err = %v", err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, json string
		want       error
	}{
		{"unknown arch", `{"architectures":["GPT2LMHeadModel"],"hidden_size":8}`, ErrUnsupported},
		{"no arch", `{"hidden_size":8}`, ErrConfig},
		{"bad json", `{`, ErrConfig},
		{"heads not multiple", `{"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":3,"max_position_embeddings":8,"vocab_size":8}`, ErrConfig},
		{"yarn", `{"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,"max_position_embeddings":8,"vocab_size":8,"rope_scaling":{"rope_type":"yarn","factor":2}}`, ErrUnsupported},
		{"bad llama3", `{"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,"max_position_embeddings":8,"vocab_size":8,"rope_scaling":{"rope_type":"llama3","factor":2}}`, ErrConfig},
		{"gelu", `{"architectures":["LlamaForCausalLM"],"hidden_act":"gelu"}`, ErrUnsupported},
		{"bad eos", `{"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,"max_position_embeddings":8,"vocab_size":8,"eos_token_id":"x"}`, ErrConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseConfig([]byte(tc.json)); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	c, err := ParseConfig([]byte(`{"architectures":["MistralForCausalLM"],"hidden_size":64,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":2,"max_position_embeddings":8,"vocab_size":8,"sliding_window":null,"eos_token_id":[5,6],"bos_token_id":null}`))
	if err != nil || c.SlidingWindow != 0 || c.HeadDim != 16 || len(c.EOSTokenIDs) != 2 || c.BOSTokenID != -1 {
		t.Errorf("mistral config %+v %v", c, err)
	}
}

func TestGenerationConfig(t *testing.T) {
	dir := t.TempDir()
	g, err := LoadGenerationConfig(dir)
	if err != nil || g.BOSTokenID != -1 {
		t.Fatalf("missing file: %+v %v", g, err)
	}
	os.WriteFile(filepath.Join(dir, "generation_config.json"), []byte(`{"bos_token_id":1,"eos_token_id":[2,3],"temperature":0.6,"top_p":0.9,"do_sample":true}`), 0o644)
	g, err = LoadGenerationConfig(dir)
	if err != nil || g.BOSTokenID != 1 || len(g.EOSTokenIDs) != 2 || g.Temperature != 0.6 || !g.DoSample {
		t.Errorf("%+v %v", g, err)
	}
}

func TestForwardErrors(t *testing.T) {
	cfg, _ := Preset("tiny", "llama")
	cfg.MaxPositionEmbeddings = 8
	m, _ := New(cfg, 1)
	if _, err := m.Forward([]int{1, 2, 3, 4, 5, 6, 7, 8, 9}, 0, nil); !errors.Is(err, ErrContextOverflow) {
		t.Errorf("overflow err = %v", err)
	}
	if _, err := m.Forward([]int{cfg.VocabSize}, 0, nil); err == nil {
		t.Error("token out of range: want error")
	}
	if _, err := m.Forward(nil, 0, nil); err == nil {
		t.Error("no tokens: want error")
	}
	c := m.NewCache(4)
	if _, err := m.Forward([]int{1, 2, 3}, 0, c); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Forward([]int{1, 2}, 3, c); !errors.Is(err, ErrContextOverflow) {
		t.Errorf("cache overflow err = %v", err)
	}
	if _, err := m.Forward([]int{1}, 5, c); err == nil {
		t.Error("position past cache: want error")
	}
	if _, err := m.DecodeBatch([]int{1, 2}, []*KVCache{c, c}); err == nil {
		t.Error("repeated cache: want error")
	}
}

func TestLoadErrors(t *testing.T) {
	cfg, _ := Preset("tiny", "llama")
	m, _ := New(cfg, 1)
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	// A config that disagrees with the weights is a clear error.
	cfg.HiddenSize = 32
	cfg.HeadDim = 8
	b, _ := cfg.MarshalJSON()
	os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
	if _, err := Load(dir, LoadOptions{}); !errors.Is(err, ErrConfig) {
		t.Errorf("shape mismatch err = %v", err)
	}
	if _, err := Load(dir, LoadOptions{DType: "q2"}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("bad dtype err = %v", err)
	}
	if _, err := Load(t.TempDir(), LoadOptions{}); err == nil {
		t.Error("empty dir: want error")
	}
}

func TestAttentionSavesProbabilities(t *testing.T) {
	// Probabilities saved for backward sum to one over the allowed keys and
	// are zero elsewhere (causal + window 2).
	const T, H, D, W = 4, 2, 4, 2
	q := make([]float32, T*H*D)
	k := make([]float32, T*H*D)
	v := make([]float32, T*H*D)
	for i := range q {
		q[i], k[i], v[i] = float32(math.Sin(float64(i))), float32(math.Cos(float64(i))), float32(i%5)
	}
	out := make([]float32, T*H*D)
	att := make([]float32, H*T*T)
	AttentionForward(out, att, q, k, v, make([]float32, AttentionScratchSize(T, T, H, D)), T, 0, H, H, D, W)
	for h := 0; h < H; h++ {
		for tq := 0; tq < T; tq++ {
			row := att[(h*T+tq)*T : (h*T+tq+1)*T]
			var sum float32
			for j, p := range row {
				if (j > tq || j <= tq-W) && p != 0 {
					t.Errorf("h%d t%d: masked key %d has p=%g", h, tq, j, p)
				}
				sum += p
			}
			if math.Abs(float64(sum-1)) > 1e-5 {
				t.Errorf("h%d t%d: sum %g", h, tq, sum)
			}
		}
	}
}

func TestWeightBytesMatchesModel(t *testing.T) {
	for _, arch := range []string{"llama", "qwen2"} {
		cfg, _ := Preset("tiny", arch)
		cfg.MLPBias = true
		m, _ := New(cfg, 1)
		for _, dt := range []string{DTypeF32, DTypeBF16, DTypeInt8, DTypeNF4} {
			q, err := m.Convert(dt)
			if err != nil {
				t.Fatal(err)
			}
			want, err := cfg.WeightBytes(dt)
			if err != nil || q.WeightBytes() != want {
				t.Errorf("%s/%s: model %d bytes, estimate %d (%v)", arch, dt, q.WeightBytes(), want, err)
			}
		}
	}
}
