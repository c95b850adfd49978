package train

import (
	"context"
	"math"
	"sync"
	"testing"

	"github.com/whet-dev/whet/internal/llm"
)

// teacherCache holds the lookup teacher, trained once per test binary;
// the lock makes parallel tests wait for the first one to train it.
var teacherCache struct {
	sync.Mutex
	base, teacher *llm.Model
}

// lookupTeacher returns tinyModel("llama") and that model merged with an
// adapter trained by SFT on lookupTask (noise 200–209): a teacher that
// knows the task. Tests must not change either model.
func lookupTeacher(t *testing.T) (base, teacher *llm.Model) {
	t.Helper()
	teacherCache.Lock()
	defer teacherCache.Unlock()
	if teacherCache.teacher != nil {
		return teacherCache.base, teacherCache.teacher
	}
	base = tinyModel(t, "llama")
	exs, _, _ := lookupTask([]int{200, 201, 202, 203, 204, 205, 206, 207, 208, 209})
	r, err := NewRun(base, sftConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.SFT(context.Background(), exs, nil); err != nil {
		t.Fatal(err)
	}
	teacher, err = base.Merge(r.Params().Adapter("tiny"))
	if err != nil {
		t.Fatal(err)
	}
	teacherCache.base, teacherCache.teacher = base, teacher
	return base, teacher
}

// greedyAnswers returns m's most likely next token after each prompt.
func greedyAnswers(t *testing.T, m *llm.Model, prompts [][]int) []int {
	t.Helper()
	out := make([]int, len(prompts))
	for i, p := range prompts {
		lg, err := m.ForwardLast(p, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		for v := range lg {
			if lg[v] > lg[out[i]] {
				out[i] = v
			}
		}
	}
	return out
}

// heldOutKL returns the mean KL(teacher ‖ student) of the next-token
// distributions (temperature 1) after each prompt, in nats.
func heldOutKL(t *testing.T, teacher, student *llm.Model, prompts [][]int) float64 {
	t.Helper()
	logSoftmax := func(lg []float32) []float64 {
		mx := lg[0]
		for _, v := range lg {
			mx = max(mx, v)
		}
		var z float64
		for _, v := range lg {
			z += math.Exp(float64(v - mx))
		}
		out := make([]float64, len(lg))
		for i, v := range lg {
			out[i] = float64(v-mx) - math.Log(z)
		}
		return out
	}
	var kl float64
	for _, p := range prompts {
		tl, err := teacher.ForwardLast(p, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		lt := logSoftmax(tl)
		sl, err := student.ForwardLast(p, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		ls := logSoftmax(sl)
		for v := range lt {
			kl += math.Exp(lt[v]) * (lt[v] - ls[v])
		}
	}
	return kl / float64(len(prompts))
}

// TestDistillMovesTowardTeacher: a student distilled from a teacher that
// learned the lookup task agrees with the teacher's held-out answers far
// more often, and its KL to the teacher falls.
func TestDistillMovesTowardTeacher(t *testing.T) {
	t.Parallel()
	exs, _, _ := lookupTask([]int{200, 201, 202, 203, 204, 205, 206, 207, 208, 209})
	_, heldP, _ := lookupTask([]int{300, 301})
	base, teacher := lookupTeacher(t)
	want := greedyAnswers(t, teacher, heldP)
	agree := func(m *llm.Model) float64 {
		got := greedyAnswers(t, m, heldP)
		n := 0
		for i := range got {
			if got[i] == want[i] {
				n++
			}
		}
		return float64(n) / float64(len(got))
	}
	before := agree(base)
	cfg := sftConfig()
	cfg.Seed = 99
	d, err := NewRun(base, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.Distill(context.Background(), exs, teacher, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	student, err := base.WithAdapter(d.Params().Adapter("tiny"))
	if err != nil {
		t.Fatal(err)
	}
	after := agree(student)
	klBefore, klAfter := heldOutKL(t, teacher, base, heldP), heldOutKL(t, teacher, student, heldP)
	t.Logf("training KL %.3f → %.3f; held-out KL %.3f → %.3f; held-out agreement with the teacher %.2f → %.2f",
		d.Losses[0], st.Loss, klBefore, klAfter, before, after)
	if st.Loss >= d.Losses[0]/2 || after < before+0.5 {
		t.Errorf("distillation did not move the student toward the teacher")
	}
	if klAfter >= klBefore/2 {
		t.Errorf("held-out KL to the teacher %.3f → %.3f, want at least halved", klBefore, klAfter)
	}
}
