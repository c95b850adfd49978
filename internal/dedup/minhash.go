package dedup

import (
	"math"
	"unicode"
	"unicode/utf8"
)

// Hasher computes MinHash signatures for one [Config]. It is immutable and
// safe for concurrent use.
type Hasher struct {
	unit   Unit
	k      int
	mulAdd [][2]uint64 // one (a, b) per permutation: h_i(x) = (a·x + b) >> 32
}

// NewHasher returns a Hasher for cfg's shingling and permutations. cfg is
// completed with defaults first.
func NewHasher(cfg Config) (*Hasher, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Hasher{unit: cfg.ShingleUnit, k: cfg.ShingleSize, mulAdd: make([][2]uint64, cfg.Permutations)}
	state := cfg.Seed ^ 0x9e3779b97f4a7c15
	for i := range h.mulAdd {
		h.mulAdd[i] = [2]uint64{splitmix(&state) | 1, splitmix(&state)}
	}
	return h, nil
}

func splitmix(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	return mix64(*state)
}

// mix64 is the splitmix64 finaliser: a bijection with full avalanche.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Shingles returns the distinct 64-bit shingle hashes of text. Words are
// maximal runs of letters and digits, lower-cased; character shingles run
// over the lower-cased text with whitespace collapsed. A text shorter than
// one shingle yields one shingle of all of it; an empty text yields none.
func (h *Hasher) Shingles(text string) []uint64 {
	var units []uint64
	if h.unit == UnitChar {
		units = charUnits(text)
	} else {
		units = wordUnits(text)
	}
	if len(units) == 0 {
		return nil
	}
	k := min(h.k, len(units))
	out := make([]uint64, 0, len(units)-k+1)
	for i := 0; i+k <= len(units); i++ {
		s := uint64(fnvOffset)
		for _, u := range units[i : i+k] {
			s = (s ^ u) * fnvPrime
		}
		out = append(out, mix64(s))
	}
	return out
}

func wordUnits(text string) []uint64 {
	units := make([]uint64, 0, len(text)/6)
	w := uint64(fnvOffset)
	inWord := false
	for i := 0; i < len(text); {
		c := text[i]
		var r rune
		if c < utf8.RuneSelf {
			r = rune(c)
			i++
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
				w = (w ^ uint64(r)) * fnvPrime
				inWord = true
				continue
			}
		} else {
			var size int
			r, size = utf8.DecodeRuneInString(text[i:])
			i += size
			if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
				w = (w ^ uint64(unicode.ToLower(r))) * fnvPrime
				inWord = true
				continue
			}
		}
		if inWord {
			units = append(units, w)
			w = fnvOffset
			inWord = false
		}
	}
	if inWord {
		units = append(units, w)
	}
	return units
}

func charUnits(text string) []uint64 {
	units := make([]uint64, 0, len(text))
	space := false
	for _, r := range text {
		if unicode.IsSpace(r) {
			space = len(units) > 0
			continue
		}
		if space {
			units = append(units, ' ')
			space = false
		}
		units = append(units, uint64(unicode.ToLower(r)))
	}
	return units
}

// Signature returns the MinHash signature of text: for each permutation
// the minimum permuted shingle hash. A text without shingles gets a
// signature of all math.MaxUint32, which [Index] never pairs.
func (h *Hasher) Signature(text string) []uint32 {
	sig := make([]uint32, len(h.mulAdd))
	h.signature(sig, h.Shingles(text))
	return sig
}

func (h *Hasher) signature(sig []uint32, shingles []uint64) {
	for i := range sig {
		sig[i] = math.MaxUint32
	}
	for _, x := range shingles {
		for i, ab := range h.mulAdd {
			v := uint32((ab[0]*x + ab[1]) >> 32)
			if v < sig[i] {
				sig[i] = v
			}
		}
	}
}

// Estimate returns the MinHash estimate of the Jaccard similarity of the
// documents with signatures a and b: the share of equal positions. It is 0
// when the lengths differ or either signature is empty.
func Estimate(a, b []uint32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	eq := 0
	for i := range a {
		if a[i] == b[i] {
			eq++
		}
	}
	return float64(eq) / float64(len(a))
}

// Jaccard returns the exact Jaccard similarity of two shingle sets given as
// hash slices (duplicates ignored). Two empty sets have similarity 1.
func Jaccard(a, b []uint64) float64 {
	sa := make(map[uint64]struct{}, len(a))
	for _, x := range a {
		sa[x] = struct{}{}
	}
	sb := make(map[uint64]struct{}, len(b))
	inter := 0
	for _, x := range b {
		if _, dup := sb[x]; dup {
			continue
		}
		sb[x] = struct{}{}
		if _, ok := sa[x]; ok {
			inter++
		}
	}
	union := len(sa) + len(sb) - inter
	if union == 0 {
		return 1
	}
	return float64(inter) / float64(union)
}
