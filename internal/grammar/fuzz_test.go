package grammar

import (
	"math/rand/v2"
	"testing"
)

// FuzzCompile compiles arbitrary schemas and, when they compile, takes a short random
// walk: errors are fine, panics and disagreement between Allowed and Accept are not.
func FuzzCompile(f *testing.F) {
	for _, s := range schemas {
		f.Add([]byte(s), uint64(1))
	}
	f.Add([]byte(`{"type":["integer","string","null"]}`), uint64(2))
	f.Add([]byte(`{"type":"object","properties":{"a":{"$ref":"#"}}}`), uint64(3))
	vocab := tinyVocab()
	v := NewVocab(vocab)
	f.Fuzz(func(t *testing.T, schema []byte, seed uint64) {
		g, err := Compile(schema)
		if err != nil {
			return
		}
		rng := rand.New(rand.NewPCG(seed, 1))
		m := g.NewMatcher(v)
		mask := make([]bool, len(vocab))
		for step := 0; step < 50 && !m.Finished(); step++ {
			m.Allowed(mask)
			var allowed []int
			for id, ok := range mask {
				if ok {
					allowed = append(allowed, id)
				}
			}
			if len(allowed) == 0 {
				return
			}
			id := allowed[rng.IntN(len(allowed))]
			if err := m.Accept(id); err != nil {
				t.Fatalf("mask allowed %q but Accept failed: %v", vocab[id], err)
			}
		}
	})
}
