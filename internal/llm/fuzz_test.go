package llm

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseConfig: any config.json either fails with an error or yields a
// config that validates and builds a model of its (bounded) size.
func FuzzParseConfig(f *testing.F) {
	for _, name := range goldenNames {
		b, err := os.ReadFile(filepath.Join("testdata", name, "config.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"architectures":["LlamaForCausalLM"],"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":2,"max_position_embeddings":4,"vocab_size":4,"rope_scaling":{"type":"linear","factor":0}}`))
	f.Add([]byte(`{"architectures":["MistralForCausalLM"],"sliding_window":-1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted an invalid config: %v", err)
		}
		if c.ParamCount() <= 0 {
			t.Fatalf("param count %d", c.ParamCount())
		}
		if c.ParamCount() < 1<<16 && c.MaxPositionEmbeddings < 1<<12 {
			m, err := New(c, 1)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Forward([]int{0}, 0, nil); err != nil {
				t.Fatal(err)
			}
		}
	})
}
