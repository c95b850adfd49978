package cli

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/train"
)

// benchTrainResult is one variant's figures in `whet bench train --json`.
type benchTrainResult struct {
	Variant               string  `json:"variant"`
	DType                 string  `json:"dtype"`
	GradientCheckpointing bool    `json:"gradient_checkpointing"`
	Tokens                int     `json:"tokens_per_step"`
	Steps                 int     `json:"steps"`
	StepSeconds           float64 `json:"median_step_s"`
	TokensPerS            float64 `json:"tokens_per_s"`
	// StepCPUSeconds is the median process CPU time (user+system) of a
	// step; TokensPerCPUS divides the step's tokens by it. Load from other
	// processes inflates wall time far more than CPU time.
	StepCPUSeconds float64 `json:"median_step_cpu_s"`
	TokensPerCPUS  float64 `json:"tokens_per_cpu_s"`
	PeakRSSMB      float64 `json:"peak_rss_mb"`
	Threads        int     `json:"threads"`
}

func newBenchTrainCmd(env *Env) *cobra.Command {
	var preset, arch, only, cpuProfile string
	var seq, batch, steps, r int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "train --preset smollm2-135m --seq 256 --batch 4",
		Short: "Measure LoRA SFT steps (r=16 on q,k,v,o): tokens/s and peak memory, f32 and NF4 base, with and without gradient checkpointing",
		Long: `Builds a randomly initialised model of the preset's shape and times full training
steps (forward, backward, AdamW) on random tokens, after one warm-up step. Reports the
median step time as tokens/s and the peak resident memory of each variant (the kernel's
peak-RSS counter is reset between variants). Compare with scripts/bench/train_torch.py.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := llm.Preset(preset, arch)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			var results []benchTrainResult
			m, err := llm.New(cfg, 1)
			if err != nil {
				return err
			}
			variants := []struct {
				dtype string
				ckpt  bool
			}{{llm.DTypeF32, false}, {llm.DTypeF32, true}, {llm.DTypeNF4, false}, {llm.DTypeNF4, true}, {llm.DTypeInt8, false},
				{llm.DTypeBF16, false}}
			for _, v := range variants {
				if err := cmd.Context().Err(); err != nil {
					return err
				}
				name := v.dtype + map[bool]string{true: "+ckpt", false: ""}[v.ckpt]
				if only != "" && !slices.Contains(splitList(only), name) {
					continue
				}
				if v.dtype != m.DType {
					// Convert from a fresh f32 model (same seed), so that the
					// variant's peak RSS holds no other copy of the weights
					// and no precision is lost converting between formats.
					if m.DType != llm.DTypeF32 {
						m = nil
						runtime.GC()
						if m, err = llm.New(cfg, 1); err != nil {
							return err
						}
					}
					conv, err := m.Convert(v.dtype)
					if err != nil {
						return err
					}
					m = conv
				}
				runtime.GC()
				debug.FreeOSMemory()
				resetPeakRSS()
				res, err := benchTrainVariant(m, seq, batch, steps, r, v.ckpt)
				if err != nil {
					return err
				}
				results = append(results, res)
				if !asJSON {
					fmt.Fprintf(env.Stdout, "%-9s %-22s %7.1f tokens/s  step %.2fs  %7.1f tokens/CPU-s  peak RSS %6.0f MB\n",
						res.DType, map[bool]string{true: "gradient checkpointing", false: ""}[res.GradientCheckpointing],
						res.TokensPerS, res.StepSeconds, res.TokensPerCPUS, res.PeakRSSMB)
				}
			}
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				for _, r := range results {
					if err := enc.Encode(r); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&preset, "preset", "smollm2-135m", "model shape preset: tiny or smollm2-135m")
	f.StringVar(&arch, "arch", "llama", "architecture: llama, mistral or qwen2")
	f.IntVar(&seq, "seq", 256, "tokens per sequence")
	f.IntVar(&batch, "batch", 4, "sequences per step")
	f.IntVar(&steps, "steps", 3, "timed steps per variant (after one warm-up step)")
	f.IntVar(&r, "r", 16, "LoRA rank")
	f.StringVar(&only, "variants", "", "comma-separated subset of f32,f32+ckpt,nf4,nf4+ckpt,int8,bf16 (default all)")
	f.BoolVar(&asJSON, "json", false, "print one JSON object per variant")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of all variants to this file")
	return cmd
}

func benchTrainVariant(m *llm.Model, seq, batch, steps, r int, ckpt bool) (benchTrainResult, error) {
	p, err := llm.NewLoRAParams(m, llm.LoRAConfig{R: r, Alpha: float64(2 * r), Targets: []string{"q_proj", "k_proj", "v_proj", "o_proj"}}, 1)
	if err != nil {
		return benchTrainResult{}, err
	}
	tr := llm.NewTrainer(m, p)
	tr.Checkpoint = ckpt
	rng := rand.New(rand.NewPCG(1, 2))
	b := &llm.Batch{}
	for i := 0; i < batch; i++ {
		for j := 0; j < seq; j++ {
			b.Tokens = append(b.Tokens, rng.IntN(m.Config.VocabSize))
			b.Targets = append(b.Targets, rng.IntN(m.Config.VocabSize))
		}
		b.Docs = append(b.Docs, seq)
	}
	dloss := make([]float32, len(b.Tokens))
	opt := train.AdamW{}
	var times, cpus []float64
	for s := 0; s <= steps; s++ {
		t0, c0 := time.Now(), processCPUTime()
		p.ZeroGrad()
		logp, err := tr.Forward(b, llm.ForwardOptions{Seed: uint64(s), Dropout: true})
		if err != nil {
			return benchTrainResult{}, err
		}
		llm.MaskedMeanLoss(dloss, logp, b.Targets)
		if err := tr.Backward(dloss); err != nil {
			return benchTrainResult{}, err
		}
		train.ClipGradNorm(p.Grads(), 1)
		opt.Step(p, 1e-4, s+1)
		if s > 0 {
			times = append(times, time.Since(t0).Seconds())
			cpus = append(cpus, (processCPUTime() - c0).Seconds())
		}
	}
	med, cmed := medianOf(times), medianOf(cpus)
	tpc := 0.0
	if cmed > 0 {
		tpc = float64(len(b.Tokens)) / cmed
	}
	return benchTrainResult{Variant: fmt.Sprintf("%s%s", m.DType, map[bool]string{true: "+ckpt", false: ""}[ckpt]),
		DType: m.DType, GradientCheckpointing: ckpt, Tokens: len(b.Tokens), Steps: steps, StepSeconds: med,
		TokensPerS: float64(len(b.Tokens)) / med, StepCPUSeconds: cmed, TokensPerCPUS: tpc, PeakRSSMB: peakRSSMB(), Threads: runtime.GOMAXPROCS(0)}, nil
}

func medianOf(v []float64) float64 {
	s := append([]float64(nil), v...)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// resetPeakRSS resets the kernel's peak-RSS counter (Linux ≥ 4.0); a no-op
// elsewhere.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0o200)
}
