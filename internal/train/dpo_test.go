package train

import (
	"context"
	"math"
	"testing"

	"github.com/whet-dev/whet/internal/llm"
)

// seqLogprob returns Σ log p(response | prompt) under m.
func seqLogprob(t *testing.T, m *llm.Model, prompt, response []int) float64 {
	t.Helper()
	seq := append(append([]int(nil), prompt...), response...)
	lg, err := m.Forward(seq[:len(seq)-1], 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	V := m.Config.VocabSize
	var s float64
	for i := range response {
		row := lg[(len(prompt)-1+i)*V : (len(prompt)+i)*V]
		mx := row[0]
		for _, v := range row {
			mx = max(mx, v)
		}
		var z float64
		for _, v := range row {
			z += math.Exp(float64(v - mx))
		}
		s += float64(row[response[i]]-mx) - math.Log(z)
	}
	return s
}

// prefTask builds pairs (correct value vs a wrong one) for the lookup task.
func prefTask(noise []int) (pairs []Pair, prompts [][]int, chosen, rejected []int) {
	_, ps, as := lookupTask(noise)
	for i, p := range ps {
		wrong := 100 + (as[i]-100+1+i%7)%8
		c, _ := FromPromptResponse(p, []int{as[i], 2}, 0)
		r, _ := FromPromptResponse(p, []int{wrong, 2}, 0)
		pairs = append(pairs, Pair{Chosen: c, Rejected: r})
		prompts, chosen, rejected = append(prompts, p), append(chosen, as[i]), append(rejected, wrong)
	}
	return
}

func prefAccuracy(t *testing.T, m *llm.Model, prompts [][]int, chosen, rejected []int) float64 {
	hit := 0
	for i, p := range prompts {
		if seqLogprob(t, m, p, []int{chosen[i], 2}) > seqLogprob(t, m, p, []int{rejected[i], 2}) {
			hit++
		}
	}
	return float64(hit) / float64(len(prompts))
}

// TestDPOAfterSFT is the acceptance test: a short SFT (merged into the
// base, which then serves as DPO's reference with adapters off), then DPO
// raises held-out preference accuracy by at least 5 points.
func TestDPOAfterSFT(t *testing.T) {
	for _, method := range []string{"dpo", "ipo"} {
		t.Run(method, func(t *testing.T) {
			m := tinyModel(t, "llama")
			train, _, _ := lookupTask([]int{200, 201, 202, 203, 204, 205, 206, 207, 208, 209})
			cfg := sftConfig()
			cfg.Epochs = 4
			r, err := NewRun(m, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.SFT(context.Background(), train, nil); err != nil {
				t.Fatal(err)
			}
			sft, err := m.Merge(r.Params().Adapter("tiny"))
			if err != nil {
				t.Fatal(err)
			}
			pairs, _, _, _ := prefTask([]int{200, 201, 202, 203, 204, 205, 206, 207, 208, 209})
			_, hp, hc, hr := prefTask([]int{300, 301, 302})
			before := prefAccuracy(t, sft, hp, hc, hr)
			dcfg := sftConfig()
			dcfg.Method, dcfg.Epochs, dcfg.LR, dcfg.Beta = method, 10, 5e-3, 0.5
			d, err := NewRun(sft, dcfg)
			if err != nil {
				t.Fatal(err)
			}
			st, err := d.Preference(context.Background(), pairs, nil)
			if err != nil {
				t.Fatal(err)
			}
			withA, err := sft.WithAdapter(d.Params().Adapter("tiny"))
			if err != nil {
				t.Fatal(err)
			}
			after := prefAccuracy(t, withA, hp, hc, hr)
			t.Logf("%s: loss %.3f → %.3f, margin %.3f, train accuracy %.2f; held-out preference accuracy %.3f → %.3f",
				method, d.Losses[0], st.Loss, st.Margin, st.Accuracy, before, after)
			if after < before+0.05 {
				t.Errorf("held-out preference accuracy %.3f → %.3f, want +5 points", before, after)
			}
		})
	}
}
