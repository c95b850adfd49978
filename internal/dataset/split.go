package dataset

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
)

// The split names.
const (
	SplitTrain      = "train"
	SplitValidation = "validation"
	SplitTest       = "test"
)

// Fractions is how a version is split. They must be non-negative and sum to 1.
type Fractions struct {
	Train      float64 `json:"train"`
	Validation float64 `json:"validation"`
	Test       float64 `json:"test"`
}

// ErrFractions reports split fractions that do not sum to 1.
var ErrFractions = errors.New("dataset: split fractions must be non-negative and sum to 1")

// Validate checks the fractions.
func (f Fractions) Validate() error {
	if f.Train < 0 || f.Validation < 0 || f.Test < 0 || math.Abs(f.Train+f.Validation+f.Test-1) > 1e-9 {
		return fmt.Errorf("%w (got %g/%g/%g)", ErrFractions, f.Train, f.Validation, f.Test)
	}
	return nil
}

// unitHash maps (seed, key) to a uniform number in [0, 1).
func unitHash(parts ...string) float64 {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

// SplitOf assigns key to a split by hashing it with seed: the assignment of
// a record never depends on which other records are in the version, so adding
// data never moves an old test record into train.
func SplitOf(key, seed string, f Fractions) string {
	u := unitHash("split", seed, key)
	switch {
	case u < f.Train:
		return SplitTrain
	case u < f.Train+f.Validation:
		return SplitValidation
	default:
		return SplitTest
	}
}

// AssignSplits sets Item.Split on every item of m.
func AssignSplits(m *Manifest, seed string, f Fractions) error {
	if err := f.Validate(); err != nil {
		return err
	}
	for i := range m.Items {
		m.Items[i].Split = SplitOf(m.Items[i].ID, seed, f)
	}
	return nil
}

// Component is one dataset version in a weighted training mix.
type Component struct {
	Dataset     string   // dataset name or id, for the record
	LineageHash string   // the version used
	Weight      float64  // relative weight, > 0
	Keys        []string // the item ids of the version
}

// Pick is one item chosen for a mix.
type Pick struct {
	Component int    // index into the components
	Key       string // item id within that component
	Repeat    int    // 0 for the first use of Key, 1.. when a small component is oversampled
}

// ErrMix reports an invalid mix request.
var ErrMix = errors.New("dataset: invalid mix")

// Mix draws total items from the components in proportion to their weights
// (largest-remainder rounding), deterministically for a seed: each component's
// items are ordered by a seeded hash and taken in that order, cycling when a
// component is smaller than its share. The picks come back shuffled by a
// seeded hash, and the entries describe the mix for the manifest.
func Mix(comps []Component, total int, seed string) ([]Pick, []MixEntry, error) {
	if total <= 0 || len(comps) == 0 {
		return nil, nil, fmt.Errorf("%w: need components and a positive total", ErrMix)
	}
	var wsum float64
	for i, c := range comps {
		if !(c.Weight > 0) || math.IsInf(c.Weight, 0) {
			return nil, nil, fmt.Errorf("%w: component %d (%s) weight must be positive", ErrMix, i, c.Dataset)
		}
		if len(c.Keys) == 0 {
			return nil, nil, fmt.Errorf("%w: component %d (%s) is empty", ErrMix, i, c.Dataset)
		}
		wsum += c.Weight
	}
	counts := make([]int, len(comps))
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(comps))
	assigned := 0
	for i, c := range comps {
		exact := float64(total) * c.Weight / wsum
		counts[i] = int(math.Floor(exact))
		assigned += counts[i]
		rems[i] = rem{i, exact - math.Floor(exact)}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for j := 0; assigned < total; j++ {
		counts[rems[j%len(rems)].i]++
		assigned++
	}
	var picks []Pick
	entries := make([]MixEntry, len(comps))
	for i, c := range comps {
		keys := append([]string(nil), c.Keys...)
		sort.Slice(keys, func(a, b int) bool {
			return unitHash("mix", seed, c.LineageHash, keys[a]) < unitHash("mix", seed, c.LineageHash, keys[b])
		})
		for n := 0; n < counts[i]; n++ {
			picks = append(picks, Pick{Component: i, Key: keys[n%len(keys)], Repeat: n / len(keys)})
		}
		entries[i] = MixEntry{Dataset: c.Dataset, LineageHash: c.LineageHash, Weight: c.Weight / wsum, Count: counts[i]}
	}
	order := make([]float64, len(picks))
	for i, p := range picks {
		order[i] = unitHash("order", seed, comps[p.Component].LineageHash, p.Key, fmt.Sprint(p.Repeat))
	}
	idx := make([]int, len(picks))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return order[idx[a]] < order[idx[b]] })
	out := make([]Pick, len(picks))
	for i, j := range idx {
		out[i] = picks[j]
	}
	return out, entries, nil
}
