package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/whet-dev/whet/internal/llm"
)

// InitFromAdapter copies an earlier adapter's weights into the run's
// parameters (a continual run). The adapter must cover exactly the run's
// modules with the same rank; optimizer state starts fresh.
func (r *Run) InitFromAdapter(a *llm.Adapter) error {
	if a.Config.R != r.p.Config.R || len(a.Modules) != len(r.p.Modules) {
		return fmt.Errorf("train: init adapter: rank %d with %d modules, run has rank %d with %d", a.Config.R, len(a.Modules), r.p.Config.R, len(r.p.Modules))
	}
	for _, m := range r.p.Modules {
		src, ok := a.Modules[fmt.Sprintf("%d.%s", m.Layer, m.Name)]
		if !ok || len(src.A) != len(m.LoRA.A) || len(src.B) != len(m.LoRA.B) {
			return fmt.Errorf("train: init adapter: layer %d %s missing or of another shape", m.Layer, m.Name)
		}
		copy(m.LoRA.A, src.A)
		copy(m.LoRA.B, src.B)
	}
	return nil
}

// MixReplay returns the new examples plus replay examples drawn (seeded,
// without replacement while they last) from old, so that replay makes up
// ratio of the result (0 ≤ ratio < 1).
func MixReplay(fresh, old []Example, ratio float64, seed uint64) []Example {
	out := append([]Example(nil), fresh...)
	if ratio <= 0 || ratio >= 1 || len(old) == 0 {
		return out
	}
	n := int(float64(len(fresh))*ratio/(1-ratio) + 0.5)
	rng := rand.New(rand.NewPCG(seed, 0x7e9))
	perm := rng.Perm(len(old))
	for i := 0; i < n; i++ {
		out = append(out, old[perm[i%len(old)]])
	}
	return out
}

// MixWeighted returns n examples (0: the sum of the sets' sizes) drawn
// from sets in proportion to weights: multi-task training. Each set gives
// its share n·wᵢ/Σw (rounded by largest remainder, so the proportions are
// exact up to one example), drawn in a seeded order without replacement
// until the set is exhausted, then cycling through it again; the result is
// shuffled. Weights must be ≥ 0 with a positive sum, and a set with a
// positive weight must not be empty. Same arguments, same result.
func MixWeighted(sets [][]Example, weights []float64, n int, seed uint64) ([]Example, error) {
	if len(sets) == 0 || len(sets) != len(weights) {
		return nil, fmt.Errorf("%w: mix: %d sets with %d weights", ErrData, len(sets), len(weights))
	}
	if n < 0 {
		return nil, fmt.Errorf("%w: mix: %d examples", ErrData, n)
	}
	var sum float64
	size := 0
	for i, w := range weights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("%w: mix: weight %v of set %d (want a finite weight ≥ 0)", ErrData, w, i)
		}
		if w > 0 && len(sets[i]) == 0 {
			return nil, fmt.Errorf("%w: mix: set %d is empty but weighted %v", ErrData, i, w)
		}
		sum += w
		size += len(sets[i])
	}
	if sum <= 0 {
		return nil, fmt.Errorf("%w: mix: the weights sum to 0", ErrData)
	}
	if n == 0 {
		n = size
	}
	counts := make([]int, len(sets))
	rem := make([]float64, len(sets))
	given := 0
	for i, w := range weights {
		q := float64(n) * w / sum
		counts[i] = int(q)
		rem[i] = q - float64(counts[i])
		given += counts[i]
	}
	for ; given < n; given++ {
		best := -1
		for i := range rem {
			if weights[i] > 0 && (best < 0 || rem[i] > rem[best]) {
				best = i
			}
		}
		counts[best]++
		rem[best] = -1
	}
	rng := rand.New(rand.NewPCG(seed, 0x313))
	out := make([]Example, 0, n)
	for i, set := range sets {
		if counts[i] == 0 {
			continue
		}
		perm := rng.Perm(len(set))
		for k := 0; k < counts[i]; k++ {
			out = append(out, set[perm[k%len(set)]])
		}
	}
	rng.Shuffle(len(out), func(a, b int) { out[a], out[b] = out[b], out[a] })
	return out, nil
}
