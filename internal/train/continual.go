package train

import (
	"fmt"
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
