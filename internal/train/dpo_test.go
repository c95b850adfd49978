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
// or IPO raises held-out preference accuracy by at least 5 points. With
// the chosen-answer NLL term (Config.ChosenNLL, RPO) it also raises the
// greedy win rate against SFT-only, judged by a deterministic scorer, by
// at least 5 points (0.55 against the 0.50 of SFT-only against itself);
// measured at DPO seeds 7–9: DPO 0.71–0.81, IPO 0.58–0.60.
func TestDPOAfterSFT(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method string
		nll    float64
	}{{"dpo", 0}, {"ipo", 0}, {"dpo", 1}, {"ipo", 1}} {
		method, name := tc.method, tc.method
		if tc.nll > 0 {
			name += "+nll"
		}
		t.Run(name, func(t *testing.T) {
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
			dcfg.Method, dcfg.Epochs, dcfg.LR, dcfg.Beta, dcfg.ChosenNLL = method, 10, 5e-3, 0.5, tc.nll
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
				name, d.Losses[0], st.Loss, st.Margin, st.Accuracy, before, after)
			if after < before+0.05 {
				t.Errorf("held-out preference accuracy %.3f → %.3f, want +5 points", before, after)
			}
			// Without the NLL term the win rate is measured, not asserted:
			// it varies with the seed (0.48–0.56 for DPO and 0.52–0.56 for
			// IPO at seeds 7–9), because DPO also lowers the chosen
			// answers' likelihood, the stop token's included.
			sftScore, dpoScore, win := winRate(t, withA, sft, hp, hc)
			t.Logf("%s: scorer mean SFT-only %.3f, after %s %.3f; greedy win rate against SFT-only %.3f", name, sftScore, name, dpoScore, win)
			if tc.nll > 0 && win < 0.55 {
				t.Errorf("win rate against SFT-only %.3f (scorer mean %.3f → %.3f), want ≥ 0.55 (SFT-only against itself is 0.50)", win, sftScore, dpoScore)
			}
		})
	}
}

// answerScore is the deterministic judge of a generated response: 1 for
// the right value followed by the stop token, 0.5 for the right value
// without it, 0 otherwise.
func answerScore(resp []int, want int) float64 {
	switch {
	case len(resp) == 2 && resp[0] == want && resp[1] == 2:
		return 1
	case len(resp) > 0 && resp[0] == want:
		return 0.5
	}
	return 0
}

// winRate decodes each held-out prompt greedily with policy and baseline
// and has answerScore judge the two responses: a higher score is a win, a
// tie counts half, so a model against itself scores exactly 0.5. It
// returns both models' mean scores and policy's win rate.
func winRate(t *testing.T, policy, baseline *llm.Model, prompts [][]int, want []int) (baseScore, polScore, win float64) {
	t.Helper()
	ctx := context.Background()
	pol, err := DistillSequences(ctx, policy, prompts, 2, []int{2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	base, err := DistillSequences(ctx, baseline, prompts, 2, []int{2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := float64(len(prompts))
	for i := range prompts {
		ps, bs := answerScore(pol[i], want[i]), answerScore(base[i], want[i])
		polScore, baseScore = polScore+ps/n, baseScore+bs/n
		switch {
		case ps > bs:
			win += 1 / n
		case ps == bs:
			win += 0.5 / n
		}
	}
	return baseScore, polScore, win
}
