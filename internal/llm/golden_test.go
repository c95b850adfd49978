package llm

import (
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/whet-dev/whet/internal/safetensors"
)

// golden is one reference model folder written by scripts/golden/llm_golden.py.
type golden struct {
	dir            string
	prompt, decode []int
	logits         []float32 // [(len(prompt)+len(decode))×V]
	vocab          int
}

func loadGolden(t *testing.T, name string) golden {
	t.Helper()
	dir := filepath.Join("testdata", name)
	f, err := safetensors.Open(filepath.Join(dir, "golden.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids := func(n string) []int {
		b, err := f.Bytes(n)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]int, len(b)/8)
		for i := range out {
			out[i] = int(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return out
	}
	g := golden{dir: dir, prompt: ids("prompt"), decode: ids("decode")}
	var shape []int
	if g.logits, shape, err = f.Float32("logits"); err != nil {
		t.Fatal(err)
	}
	g.vocab = shape[1]
	return g
}

// goldenNames lists the reference scenarios.
var goldenNames = []string{"llama", "llama_bias", "mistral", "qwen2"}

// maxRelErr returns max|got-want| / max(1, max|want|).
func maxRelErr(got, want []float32) float64 {
	var diff, scale float64 = 0, 1
	for i := range want {
		diff = math.Max(diff, math.Abs(float64(got[i])-float64(want[i])))
		scale = math.Max(scale, math.Abs(float64(want[i])))
	}
	return diff / scale
}

// runGolden prefills the prompt, then decodes the decode tokens one by one
// through the cache, returning the error against the reference for the
// prefill logits and for each decode step.
func runGolden(t *testing.T, m *Model, g golden) (prefill float64, decode []float64) {
	t.Helper()
	V := g.vocab
	T := len(g.prompt)
	cache := m.NewCache(0)
	logits, err := m.Forward(g.prompt, 0, cache)
	if err != nil {
		t.Fatal(err)
	}
	prefill = maxRelErr(logits, g.logits[:T*V])
	for i, id := range g.decode {
		// Decode step i feeds the previous token: the prompt's last logits
		// predict decode[0], which is then fed at position T.
		out, err := m.Forward([]int{id}, T+i, cache)
		if err != nil {
			t.Fatal(err)
		}
		decode = append(decode, maxRelErr(out, g.logits[(T+i)*V:(T+i+1)*V]))
	}
	return prefill, decode
}

func TestGoldenF32(t *testing.T) {
	for _, name := range goldenNames {
		t.Run(name, func(t *testing.T) {
			g := loadGolden(t, name)
			m, err := Load(g.dir, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			const tol = 1e-4
			pre, dec := runGolden(t, m, g)
			if pre > tol {
				t.Errorf("prefill rel err %.3g > %g", pre, tol)
			}
			for i, e := range dec {
				if e > tol {
					t.Errorf("decode step %d rel err %.3g > %g", i, e, tol)
				}
			}
			t.Logf("prefill %.2g decode %.2g", pre, dec)
		})
	}
}

// TestGoldenQuantised checks the reduced-precision formats against the same
// references. Errors are relative to max(1, max|logit|); the weights are
// N(0, 1/fan_in), so 4-bit NF4 (≈10% RMS weight error) is far coarser than
// int8. Worst errors measured over the four models when the bounds were set:
// bf16 5.0e-3, int8 1.8e-2, nf4 0.36; the bounds leave about 2× headroom
// (nf4 1.4×).
func TestGoldenQuantised(t *testing.T) {
	bounds := map[string]float64{DTypeBF16: 0.01, DTypeInt8: 0.04, DTypeNF4: 0.5}
	for _, name := range goldenNames {
		for _, dt := range []string{DTypeBF16, DTypeInt8, DTypeNF4} {
			t.Run(name+"/"+dt, func(t *testing.T) {
				g := loadGolden(t, name)
				m, err := Load(g.dir, LoadOptions{DType: dt})
				if err != nil {
					t.Fatal(err)
				}
				pre, dec := runGolden(t, m, g)
				worst := pre
				for _, e := range dec {
					worst = math.Max(worst, e)
				}
				t.Logf("prefill %.3g decode %.3g", pre, dec)
				if worst > bounds[dt] {
					t.Errorf("rel err %.3g > %g", worst, bounds[dt])
				}
			})
		}
	}
}

// TestDecodeBatchMatchesGolden runs sequences at different positions in one
// batch: each row must match the reference logits at its own position.
func TestDecodeBatchMatchesGolden(t *testing.T) {
	for _, name := range goldenNames {
		t.Run(name, func(t *testing.T) {
			g := loadGolden(t, name)
			m, err := Load(g.dir, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			V, T := g.vocab, len(g.prompt)
			full := append(append([]int(nil), g.prompt...), g.decode...)
			// Sequence b has been prefilled with full[:T-b-1] and decodes
			// full[T-b-1] next, so its logits match position T-b-1.
			const B = 6 // more than matVecRows: exercises the chunked projections
			caches := make([]*KVCache, B)
			tokens := make([]int, B)
			for b := range caches {
				caches[b] = m.NewCache(0)
				if _, err := m.ForwardLast(full[:T-b-1], 0, caches[b]); err != nil {
					t.Fatal(err)
				}
				tokens[b] = full[T-b-1]
			}
			for step := 0; step < 3; step++ {
				out, err := m.DecodeBatch(tokens, caches)
				if err != nil {
					t.Fatal(err)
				}
				for b := range caches {
					p := T - b - 1 + step
					if e := maxRelErr(out[b*V:(b+1)*V], g.logits[p*V:(p+1)*V]); e > 1e-4 {
						t.Errorf("step %d seq %d (pos %d): rel err %.3g", step, b, p, e)
					}
					tokens[b] = full[p+1]
				}
			}
		})
	}
}

func TestGoldenConfigs(t *testing.T) {
	tests := []struct {
		name  string
		check func(Config) error
	}{
		{"llama", func(c Config) error {
			if c.RopeScaling == nil || c.RopeScaling.Type != "llama3" || c.RopeScaling.OriginalMaxPos != 32 || c.TieWordEmbeddings {
				return fmt.Errorf("%+v", c)
			}
			return nil
		}},
		{"llama_bias", func(c Config) error {
			if !c.QKVBias || !c.OBias || !c.MLPBias || len(c.EOSTokenIDs) != 2 || c.RopeScaling.Type != "linear" {
				return fmt.Errorf("%+v", c)
			}
			return nil
		}},
		{"mistral", func(c Config) error {
			if c.SlidingWindow != 5 || c.NumKVHeads != 1 {
				return fmt.Errorf("%+v", c)
			}
			return nil
		}},
		{"qwen2", func(c Config) error {
			if !c.QKVBias || c.OBias || !c.TieWordEmbeddings || c.RopeTheta != 1e6 {
				return fmt.Errorf("%+v", c)
			}
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadConfig(filepath.Join("testdata", tc.name))
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.check(c); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestChunkedPrefill feeds the prompt in two chunks: the second chunk's
// attention starts at a non-zero position (and, for Mistral, past the
// sliding window), exercising the SGEMM attention path with an offset.
func TestChunkedPrefill(t *testing.T) {
	for _, name := range goldenNames {
		for _, split := range []int{1, 4, 7} {
			t.Run(fmt.Sprintf("%s/%d", name, split), func(t *testing.T) {
				g := loadGolden(t, name)
				m, err := Load(g.dir, LoadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				V := g.vocab
				full := append(append([]int(nil), g.prompt...), g.decode...)
				cache := m.NewCache(0)
				if _, err := m.Forward(full[:split], 0, cache); err != nil {
					t.Fatal(err)
				}
				out, err := m.Forward(full[split:], split, cache)
				if err != nil {
					t.Fatal(err)
				}
				if e := maxRelErr(out, g.logits[split*V:]); e > 1e-4 {
					t.Errorf("rel err %.3g", e)
				}
				// Rewinding into the cache and replaying gives the same logits.
				last, err := m.ForwardLast(full[split+1:], split+1, cache)
				if err != nil {
					t.Fatal(err)
				}
				if e := maxRelErr(last, g.logits[(len(full)-1)*V:]); e > 1e-4 {
					t.Errorf("rewind rel err %.3g", e)
				}
			})
		}
	}
}
