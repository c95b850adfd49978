package train

import (
	"context"
	"testing"

	"github.com/whet-dev/whet/internal/llm"
)

// lookupTaskB is a second lookup table on other keys and values.
func lookupTaskB(noise []int) (exs []Example, prompts [][]int, answers []int) {
	for i := 0; i < 8; i++ {
		val := 120 + (i*5)%8
		for _, nz := range noise {
			p := []int{1, nz, 40 + i, 3}
			ex, _ := FromPromptResponse(p, []int{val, 2}, 0)
			exs = append(exs, ex)
			prompts = append(prompts, p)
			answers = append(answers, val)
		}
	}
	return exs, prompts, answers
}

// TestContinualWithReplay: a run started from an earlier adapter that knows
// the old task (held-out exact match ≥ 0.9) learns a new task (held-out
// exact match from ≤ 0.2 to ≥ 0.75) while replay (60%) keeps the old
// task's held-out accuracy within 5 points. Measured: old 1.00 → 1.00 and
// new 0.00 → 0.88–1.00 over first-run seeds 7 and 8 and replay-mix seeds
// 1–3. Shorter runs (20 + 40 epochs) fell to 0.75 on some of those seeds,
// so the test keeps 40 + 80 and runs in parallel with the other heavy
// tests instead.
func TestContinualWithReplay(t *testing.T) {
	t.Parallel()
	noise := []int{200, 201, 202, 203, 204, 205, 206, 207, 208, 209}
	oldEx, _, _ := lookupTask(noise)
	newEx, _, _ := lookupTaskB(noise)
	_, oldP, oldA := lookupTask([]int{300, 301})
	_, newP, newA := lookupTaskB([]int{300, 301})
	m := tinyModel(t, "llama")
	// Rank 16 so that one adapter can hold both tables (16 keys).
	base := sftConfig()
	base.LoRA.R, base.LoRA.Alpha, base.LR = 16, 16, 5e-3
	first, err := NewRun(m, base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.SFT(context.Background(), oldEx, nil); err != nil {
		t.Fatal(err)
	}
	oldBefore := exactMatch(t, m, first.Params(), oldP, oldA)
	newBefore := exactMatch(t, m, first.Params(), newP, newA)
	cfg := base
	cfg.Seed, cfg.Epochs, cfg.BatchSize = 3, 80, 12
	second, err := NewRun(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.InitFromAdapter(first.Params().Adapter("tiny")); err != nil {
		t.Fatal(err)
	}
	if _, err := second.SFT(context.Background(), MixReplay(newEx, oldEx, 0.6, 1), nil); err != nil {
		t.Fatal(err)
	}
	oldAfter := exactMatch(t, m, second.Params(), oldP, oldA)
	newAfter := exactMatch(t, m, second.Params(), newP, newA)
	t.Logf("old task %.2f → %.2f, new task %.2f → %.2f", oldBefore, oldAfter, newBefore, newAfter)
	if oldBefore < 0.9 || newBefore > 0.2 {
		t.Fatalf("first run: old task %.2f, new task %.2f; want ≥ 0.9 and ≤ 0.2", oldBefore, newBefore)
	}
	if newAfter < 0.75 || oldAfter < oldBefore-0.05 {
		t.Errorf("continual run: old %.2f → %.2f, new %.2f → %.2f", oldBefore, oldAfter, newBefore, newAfter)
	}
	if err := second.InitFromAdapter(&llm.Adapter{Config: llm.AdapterConfig{R: 4}}); err == nil {
		t.Error("an adapter of another rank was accepted")
	}
}
