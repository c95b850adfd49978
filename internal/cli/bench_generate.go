package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/tensor"
)

// benchParent returns root's "bench" command, creating it when no other
// file registered one, so each benchmark can live in its own file.
func benchParent(root *cobra.Command) *cobra.Command {
	for _, c := range root.Commands() {
		if c.Name() == "bench" {
			return c
		}
	}
	b := &cobra.Command{Use: "bench", Short: "Measure whole workloads (generation, API, …)"}
	root.AddCommand(b)
	return b
}

// benchGenerateResult is one dtype's figures in `whet bench generate --json`.
type benchGenerateResult struct {
	DType            string             `json:"dtype"`
	WeightBytes      int64              `json:"weight_bytes"`
	PrefillTokens    int                `json:"prefill_tokens"`
	PrefillTokPerSec float64            `json:"prefill_tok_per_s"`
	PrefillGFLOPS    float64            `json:"prefill_gflop_per_s"`
	DecodeTokPerSec  map[string]float64 `json:"decode_tok_per_s"` // by batch size
	// Per-CPU-second rates: work divided by the process's CPU time, which
	// other tenants of a shared machine do not inflate. Multiply by the
	// thread count for an uncontended wall-clock estimate.
	PrefillTokPerCPUSec float64            `json:"prefill_tok_per_cpu_s"`
	DecodeTokPerCPUSec  map[string]float64 `json:"decode_tok_per_cpu_s"`
	// DecodeReadGBps is weight bytes × batch-1 decode steps per second.
	DecodeReadGBps float64 `json:"decode_weight_read_gb_per_s"`
}

type benchGenerateReport struct {
	Model          string                `json:"model"`
	Parameters     int64                 `json:"parameters"`
	Threads        int                   `json:"threads"`
	Runs           int                   `json:"runs"`
	SGEMMGFLOPS    float64               `json:"sgemm_gflop_per_s"`
	SGEMMCPU       float64               `json:"sgemm_gflop_per_cpu_s"`
	ReadGBps       float64               `json:"memory_read_gb_per_s"`
	Results        []benchGenerateResult `json:"results"`
	PrefillVsSGEMM float64               `json:"prefill_f32_vs_sgemm"`
	// PrefillVsSGEMMCPU compares GFLOP per CPU-second, which load from
	// other processes distorts less than wall-clock rates.
	PrefillVsSGEMMCPU float64 `json:"prefill_f32_vs_sgemm_cpu"`
}

func newBenchGenerateCmd(env *Env) *cobra.Command {
	var (
		preset, modelDir, dtypes, batches string
		decodeTokens, prefillTokens, runs int
		sgemmN, memMiB                    int
		asJSON                            bool
	)
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Measure prefill and decode throughput of the native engine",
		Long: `Measures, per weight format: prefill tokens/s for one prompt of
--prefill-tokens tokens, and decode tokens/s for batches of sequences
(--batch), each the median of --runs runs. For comparison it also measures
SGEMM GFLOP/s (--sgemm-size, 1024³) and memory read bandwidth (sum over
--read-mib, 512 MiB)
in the same process. Weights are random (--preset) unless --model is given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var bs []int
			for _, s := range strings.Split(batches, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil || n < 1 {
					return &exitError{code: 2, err: fmt.Errorf("bench generate: bad --batch %q", batches)}
				}
				bs = append(bs, n)
			}
			if runs < 1 || decodeTokens < 1 || prefillTokens < 1 {
				return &exitError{code: 2, err: errors.New("bench generate: --runs, --decode-tokens and --prefill-tokens must be >= 1")}
			}
			var base *llm.Model
			var err error
			name := preset
			if modelDir != "" {
				name = modelDir
			} else {
				cfg, err := llm.Preset(preset, "llama")
				if err != nil {
					return fmt.Errorf("bench generate: %w", err)
				}
				if base, err = llm.New(cfg, 1); err != nil {
					return fmt.Errorf("bench generate: %w", err)
				}
			}
			rep := benchGenerateReport{Model: name, Threads: runtime.GOMAXPROCS(0), Runs: runs}
			rep.SGEMMGFLOPS, rep.SGEMMCPU, _ = measureRate(runs, func() (float64, func(), error) {
				return sgemmWork(sgemmN)
			})
			rep.SGEMMGFLOPS /= 1e9
			rep.SGEMMCPU /= 1e9
			rep.ReadGBps = median(runs, func() float64 { return measureReadBandwidth(memMiB) })
			for _, dt := range strings.Split(dtypes, ",") {
				dt = strings.TrimSpace(dt)
				var m *llm.Model
				if base != nil {
					m, err = base.Convert(dt)
				} else {
					m, err = llm.Load(modelDir, llm.LoadOptions{DType: dt})
				}
				if err != nil {
					return fmt.Errorf("bench generate: %w", err)
				}
				rep.Parameters = m.ParamCount()
				r, err := benchModel(cmd, m, dt, prefillTokens, decodeTokens, runs, bs)
				if err != nil {
					return fmt.Errorf("bench generate: %s: %w", dt, err)
				}
				rep.Results = append(rep.Results, r)
				if dt == llm.DTypeF32 && rep.SGEMMGFLOPS > 0 {
					rep.PrefillVsSGEMM = r.PrefillGFLOPS / rep.SGEMMGFLOPS
					if rep.SGEMMCPU > 0 {
						rep.PrefillVsSGEMMCPU = r.PrefillGFLOPS / r.PrefillTokPerSec * r.PrefillTokPerCPUSec / rep.SGEMMCPU
					}
				}
				m = nil
				runtime.GC()
			}
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			printBenchGenerate(env, &rep, bs)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&preset, "preset", "smollm2-135m", "model shape with random weights: tiny or smollm2-135m")
	f.StringVar(&modelDir, "model", "", "benchmark this model folder instead of a preset")
	f.StringVar(&dtypes, "dtype", "f32,bf16,int8", "comma-separated weight formats: f32, bf16, int8, nf4")
	f.StringVar(&batches, "batch", "1,8", "comma-separated decode batch sizes")
	f.IntVar(&decodeTokens, "decode-tokens", 32, "decode steps per run")
	f.IntVar(&prefillTokens, "prefill-tokens", 512, "prompt length for the prefill measurement")
	f.IntVar(&runs, "runs", 3, "runs per figure (the median is reported)")
	f.IntVar(&sgemmN, "sgemm-size", 1024, "matrix size of the SGEMM reference measurement")
	f.IntVar(&memMiB, "read-mib", 512, "buffer size (MiB) of the memory read measurement")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// median runs fn n times and returns the median result.
func median(n int, fn func() float64) float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = fn()
	}
	sort.Float64s(v)
	return v[n/2]
}

func benchModel(cmd *cobra.Command, m *llm.Model, dt string, prefill, decode, runs int, batches []int) (benchGenerateResult, error) {
	c := m.Config
	r := benchGenerateResult{DType: dt, WeightBytes: m.WeightBytes(), PrefillTokens: prefill,
		DecodeTokPerSec: map[string]float64{}, DecodeTokPerCPUSec: map[string]float64{}}
	if prefill+decode+16 > m.MaxSeq() {
		return r, fmt.Errorf("%w: prefill %d + decode %d exceeds context %d", llm.ErrContextOverflow, prefill, decode, m.MaxSeq())
	}
	tokens := make([]int, prefill)
	for i := range tokens {
		tokens[i] = (i*7919 + 13) % c.VocabSize
	}
	var fwdErr error
	var err error
	// Caches are reused across runs (truncated), as internal/generate
	// recycles them between requests.
	cache := m.NewCache(prefill)
	r.PrefillTokPerSec, r.PrefillTokPerCPUSec, err = measureRate(runs, func() (float64, func(), error) {
		cache.Truncate(0)
		return float64(prefill), func() { _, fwdErr = m.ForwardLast(tokens, 0, cache) }, nil
	})
	if err = errors.Join(err, fwdErr); err != nil {
		return r, err
	}
	// FLOPs per prompt: 2 per weight per token for the projections (the
	// vocabulary projection only for the last token) plus causal attention
	// (QKᵀ and PV over about T²/2 pairs per head).
	proj := c.ParamCount() - int64(c.VocabSize)*int64(c.HiddenSize)
	if !c.TieWordEmbeddings {
		proj -= int64(c.VocabSize) * int64(c.HiddenSize)
	}
	T := float64(prefill)
	flops := 2*float64(proj)*T + 2*float64(c.VocabSize*c.HiddenSize) +
		float64(c.NumLayers)*float64(c.NumHeads)*4*float64(c.HeadDim)*T*(T+1)/2
	r.PrefillGFLOPS = flops / (T / r.PrefillTokPerSec) / 1e9
	for _, b := range batches {
		var stepErr error
		caches := make([]*llm.KVCache, b)
		for i := range caches {
			caches[i] = m.NewCache(16 + decode)
		}
		tps, cps, err := measureRate(runs, func() (float64, func(), error) {
			next := make([]int, b)
			for i := range caches {
				caches[i].Truncate(0)
				if _, err := m.ForwardLast(tokens[i%prefill:i%prefill+1], 0, caches[i]); err != nil {
					return 0, nil, err
				}
				next[i] = tokens[(i+1)%prefill]
			}
			return float64(b * decode), func() {
				for s := 0; s < decode && stepErr == nil; s++ {
					if stepErr = cmd.Context().Err(); stepErr != nil {
						return
					}
					var logits []float32
					if logits, stepErr = m.DecodeBatch(next, caches); stepErr != nil {
						return
					}
					for i := range next {
						next[i] = argmaxF32(logits[i*c.VocabSize : (i+1)*c.VocabSize])
					}
				}
			}, nil
		})
		if err = errors.Join(err, stepErr); err != nil {
			return r, err
		}
		r.DecodeTokPerSec[strconv.Itoa(b)] = tps
		r.DecodeTokPerCPUSec[strconv.Itoa(b)] = cps
		if b == 1 {
			r.DecodeReadGBps = float64(r.WeightBytes) * tps / 1e9
		}
	}
	return r, nil
}

// measureRate runs setup+work runs times and returns the median of
// units/wall-second and of units/CPU-second over the timed work only.
func measureRate(runs int, setup func() (float64, func(), error)) (wall, cpu float64, err error) {
	ws := make([]float64, runs)
	cs := make([]float64, runs)
	for i := 0; i < runs; i++ {
		units, work, err := setup()
		if err != nil {
			return 0, 0, err
		}
		c0, t0 := processCPUTime(), time.Now()
		work()
		el, ce := time.Since(t0).Seconds(), (processCPUTime() - c0).Seconds()
		ws[i] = units / el
		if ce > 0 {
			cs[i] = units / ce
		}
	}
	sort.Float64s(ws)
	sort.Float64s(cs)
	return ws[runs/2], cs[runs/2], nil
}

func argmaxF32(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// sgemmWork prepares one n³ SGEMM through internal/tensor (after a warm-up
// call) and returns its FLOP count and the timed call.
func sgemmWork(n int) (float64, func(), error) {
	a := make([]float32, n*n)
	b := make([]float32, n*n)
	c := make([]float32, n*n)
	for i := range a {
		a[i] = float32(i%17) * 0.01
		b[i] = float32(i%13) * 0.01
	}
	tensor.MatMulNT(c, a, b, n, n, n, false)
	return 2 * float64(n) * float64(n) * float64(n), func() { tensor.MatMulNT(c, a, b, n, n, n, false) }, nil
}

// measureReadBandwidth returns GB/s of summing a float32 buffer of mib MiB
// on every core.
func measureReadBandwidth(mib int) float64 {
	n := max(mib, 1) << 18
	buf := make([]float32, n)
	for i := range buf {
		buf[i] = 1
	}
	sums := make([]float32, runtime.GOMAXPROCS(0)*16)
	start := time.Now()
	tensor.Parallel(runtime.GOMAXPROCS(0), func(lo, hi int) {
		for w := lo; w < hi; w++ {
			chunk := n / runtime.GOMAXPROCS(0)
			s := buf[w*chunk : (w+1)*chunk]
			var a0, a1, a2, a3 float32
			for i := 0; i+3 < len(s); i += 4 {
				a0 += s[i]
				a1 += s[i+1]
				a2 += s[i+2]
				a3 += s[i+3]
			}
			sums[w*16] = a0 + a1 + a2 + a3
		}
	})
	el := time.Since(start).Seconds()
	return 4 * float64(n) / el / 1e9
}

func printBenchGenerate(env *Env, rep *benchGenerateReport, batches []int) {
	fmt.Fprintf(env.Stdout, "model %s, %.1fM parameters, %d threads, median of %d runs\n",
		rep.Model, float64(rep.Parameters)/1e6, rep.Threads, rep.Runs)
	fmt.Fprintf(env.Stdout, "SGEMM: %.1f GFLOP/s (%.1f per CPU-second); memory read: %.1f GB/s\n", rep.SGEMMGFLOPS, rep.SGEMMCPU, rep.ReadGBps)
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprint(w, "dtype\tweights MiB\tprefill tok/s\tprefill GFLOP/s")
	for _, b := range batches {
		fmt.Fprintf(w, "\tdecode b=%d tok/s", b)
	}
	fmt.Fprintln(w, "\tb=1 weight read GB/s")
	cpuRows := ""
	for _, r := range rep.Results {
		fmt.Fprintf(w, "%s\t%.1f\t%.1f\t%.1f", r.DType, float64(r.WeightBytes)/(1<<20), r.PrefillTokPerSec, r.PrefillGFLOPS)
		for _, b := range batches {
			fmt.Fprintf(w, "\t%.1f", r.DecodeTokPerSec[strconv.Itoa(b)])
		}
		fmt.Fprintf(w, "\t%.1f\n", r.DecodeReadGBps)
		cpuRows += fmt.Sprintf("%s\tprefill %.1f", r.DType, r.PrefillTokPerCPUSec)
		for _, b := range batches {
			cpuRows += fmt.Sprintf("\tdecode b=%d %.1f", b, r.DecodeTokPerCPUSec[strconv.Itoa(b)])
		}
		cpuRows += "\n"
	}
	fmt.Fprintln(w, "tokens per CPU-second (insensitive to other load on a shared machine):")
	fmt.Fprint(w, cpuRows)
	w.Flush()
	if rep.PrefillVsSGEMM > 0 {
		fmt.Fprintf(env.Stdout, "prefill f32 / SGEMM GFLOP/s: %.0f%% wall, %.0f%% per CPU-second\n", 100*rep.PrefillVsSGEMM, 100*rep.PrefillVsSGEMMCPU)
	}
}
