package grammar

import (
	"math/rand/v2"
	"testing"
)

// syntheticVocab builds a 50k-token vocabulary shaped like a BPE vocabulary: all 256
// single bytes, then words with and without a leading space, digits, punctuation runs and
// JSON fragments.
func syntheticVocab(n int) [][]byte {
	rng := rand.New(rand.NewPCG(42, 7))
	toks := make([][]byte, 0, n)
	for b := 0; b < 256; b++ {
		toks = append(toks, []byte{byte(b)})
	}
	letters := "etaoinshrdlucmfwypvbgkjqxz"
	punct := []string{`{"`, `":`, `",`, `"}`, `},`, `],`, ` "`, `":"`, `":[`, `": `, ", ", "\n", "\n  ", "  ", `\"`, `\n`, ".", "-", "_", "()", "</", "/>"}
	seen := map[string]bool{}
	for len(toks) < n {
		var s []byte
		switch r := rng.IntN(10); {
		case r < 6:
			if rng.IntN(2) == 0 {
				s = append(s, ' ')
			}
			l := 2 + rng.IntN(8)
			for i := 0; i < l; i++ {
				c := letters[min(rng.IntN(len(letters)), rng.IntN(len(letters)))]
				if i == 0 && rng.IntN(5) == 0 {
					c -= 'a' - 'A'
				}
				s = append(s, c)
			}
		case r < 7:
			l := 1 + rng.IntN(3)
			for i := 0; i < l; i++ {
				s = append(s, byte('0'+rng.IntN(10)))
			}
		case r < 9:
			s = append(s, punct[rng.IntN(len(punct))]...)
			if rng.IntN(2) == 0 {
				s = append(s, letters[rng.IntN(len(letters))])
			}
		default:
			s = append(s, 0xc3, byte(0x80+rng.IntN(64)))
			s = append(s, letters[rng.IntN(len(letters))])
		}
		if !seen[string(s)] {
			seen[string(s)] = true
			toks = append(toks, s)
		}
	}
	return toks
}

const benchSchema = `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},
	"tags":{"type":"array","items":{"type":"string"}},"address":{"type":"object","properties":{
	"city":{"type":"string"},"zip":{"type":"string","maxLength":10}},"required":["city"]}},
	"required":["name","age"]}`

// BenchmarkAllowed measures one mask computation over a 50k vocabulary in typical states.
func BenchmarkAllowed(b *testing.B) {
	vocab := syntheticVocab(50000)
	v := NewVocab(vocab)
	g, err := Compile([]byte(benchSchema))
	if err != nil {
		b.Fatal(err)
	}
	mask := make([]bool, len(vocab))
	for _, st := range []struct{ name, prefix string }{
		{"start", ""},
		{"object_key", `{`},
		{"after_colon", `{"name":`},
		{"string_value", `{"name": "Ada Lov`},
		{"integer", `{"name": "Ada", "age": 3`},
		{"array_next", `{"name": "Ada", "age": 36, "tags": ["x"`},
		{"nested_key", `{"name": "Ada", "age": 36, "address": {`},
	} {
		b.Run(st.name, func(b *testing.B) {
			m := g.NewMatcher(v)
			if err := m.AcceptBytes([]byte(st.prefix)); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m.Allowed(mask)
			}
		})
	}
}

func BenchmarkNewVocab(b *testing.B) {
	vocab := syntheticVocab(50000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		NewVocab(vocab)
	}
}
