package finetune

import (
	"context"
	"fmt"
	"runtime"

	"github.com/whet-dev/whet/internal/llm"
)

// Plan is the answer to a dry run: what a run would do, without doing it.
type Plan struct {
	BaseModel          string     `json:"base_model"`
	Architecture       string     `json:"architecture"`
	Parameters         int64      `json:"parameters"`
	BaseDType          string     `json:"base_dtype" doc:"Storage of the frozen base: f32, bf16, int8 or nf4."`
	LoRAParameters     int64      `json:"lora_parameters"`
	Dataset            DatasetRef `json:"dataset"`
	Examples           int        `json:"examples" doc:"Training examples (preference pairs for DPO/IPO)."`
	ValidationExamples int        `json:"validation_examples"`
	OutOfWindow        int        `json:"out_of_window,omitempty" doc:"Records left out by new_since / updated_after."`
	Tokens             int64      `json:"tokens" doc:"Tokens in one epoch of the training examples."`
	Steps              int        `json:"steps" doc:"Optimizer steps."`
	EstimatedSeconds   float64    `json:"estimated_seconds"`
	EstimateBasis      string     `json:"estimate_basis" doc:"How estimated_seconds was computed."`
	PeakMemoryBytes    int64      `json:"peak_memory_bytes"`
	Memory             MemoryPlan `json:"memory"`
	TemplateHash       string     `json:"template_hash,omitempty"`
	Config             RunSpec    `json:"config" doc:"The run body with every default filled in."`
}

// MemoryPlan breaks the peak memory estimate down.
type MemoryPlan struct {
	Weights     int64 `json:"weights_bytes" doc:"Frozen base in its storage format."`
	LoRA        int64 `json:"lora_bytes" doc:"Adapters, their gradients and the two AdamW moments (f32)."`
	Activations int64 `json:"activations_bytes" doc:"Saved activations and their gradients for one micro-batch."`
	Teacher     int64 `json:"teacher_bytes,omitempty"`
}

// flopsPerThread is the sustained rate the estimate assumes: about what
// the native engine reaches on one AVX2 thread for a LoRA step on
// SmolLM2-135M (docs/BENCHMARKS.md, train section).
const flopsPerThread = 50e9

// flopsWidth is the hidden size at which flopsPerThread was measured.
// Narrower models keep the kernels less busy (short rows, per-op overheads
// that do not shrink with the matrices): the quickstart's width-128 model
// runs LoRA SFT at ≈ 14 GFLOP/s per thread by the same count, so the rate
// is scaled by width/576 below it.
const flopsWidth = 576

// Plan resolves the base model and dataset version of spec, tokenises the
// data and estimates steps, time and peak memory. Nothing is enqueued.
// Spec errors are *ValidationError.
func (s *Service) Plan(ctx context.Context, orgID, projectID string, spec RunSpec) (*Plan, error) {
	spec = spec.withDefaults()
	if err := s.checkRefs(ctx, orgID, projectID, spec); err != nil {
		return nil, err
	}
	ref, err := s.resolveModel(ctx, orgID, spec.BaseModel, false)
	if err != nil {
		return nil, invalid("/base_model", err.Error())
	}
	defer ref.Close()
	cfg, err := llm.LoadConfig(ref.Dir)
	if err != nil {
		return nil, invalid("/base_model", err.Error())
	}
	_, fm, hash, err := NewFormatter(ref.Dir, spec.Train.MaxSeqLen)
	if err != nil {
		return nil, invalid("/base_model", err.Error())
	}
	d, err := s.loadData(ctx, orgID, spec, fm, nil)
	if err != nil {
		return nil, invalid("/train/dataset_id", err.Error())
	}
	dtype := baseDType(spec.PEFT, spec.Train.MixedPrecision)
	p := &Plan{BaseModel: spec.BaseModel, Architecture: cfg.Architecture, Parameters: cfg.ParamCount(), BaseDType: dtype,
		LoRAParameters: loraParams(cfg, spec.PEFT), Dataset: d.Ref, Examples: d.n(), ValidationExamples: len(d.Val) + len(d.ValPairs),
		OutOfWindow: d.OutOfWindow,
		Tokens:      d.Tokens, Steps: totalSteps(d.n(), spec.Train), TemplateHash: hash, Config: spec}
	if p.Memory.Weights, err = cfg.WeightBytes(dtype); err != nil {
		return nil, err
	}
	p.Memory.LoRA = 4 * 4 * p.LoRAParameters
	// Tokens of one micro-batch: batch_size examples of the mean length
	// (twice for preference pairs: chosen and rejected).
	mean := d.Tokens / int64(max(d.n(), 1))
	mb := int64(spec.Train.BatchSize) * mean
	p.Memory.Activations = activationBytes(cfg, mb, min(mean, int64(spec.Train.MaxSeqLen)), spec.Train.GradientCheckpointing)
	// Compute: forward 2·N·T plus the backward to the inputs 2·N·T (the
	// frozen weights get no gradients); DPO/IPO add a reference forward;
	// gradient checkpointing a recomputed forward; distillation the
	// teacher's forward.
	n := float64(cfg.ParamCount())
	passes := 4.0
	if spec.Method == "dpo" || spec.Method == "ipo" {
		passes += 2
	}
	if spec.Train.GradientCheckpointing {
		passes += 2
	}
	perEpoch := float64(d.Tokens)
	tokens := perEpoch * float64(spec.Train.Epochs)
	if full := totalSteps(d.n(), TrainSpec{BatchSize: spec.Train.BatchSize, GradAccum: spec.Train.GradAccum, Epochs: spec.Train.Epochs}); full > 0 && p.Steps < full {
		tokens *= float64(p.Steps) / float64(full)
	}
	flops := passes * n * tokens
	basis := fmt.Sprintf("%.0f·params·tokens", passes)
	if spec.Method == "distill" {
		if tref, err := s.resolveModel(ctx, orgID, spec.Train.TeacherModel, false); err == nil {
			if tc, err := llm.LoadConfig(tref.Dir); err == nil {
				tn := 2 * float64(tc.ParamCount())
				if spec.Train.DistillMode == "sequence" {
					// The teacher answers each training prompt once, before
					// training: a forward over the example's tokens (an
					// upper bound on its prompt) plus at most max_new_tokens
					// decoded tokens. The training tokens are counted with
					// the dataset's own answers, not the teacher's.
					gen := float64(d.Tokens) + float64(d.n())*float64(spec.Train.MaxNewTokens)
					flops += tn * gen
					basis += fmt.Sprintf(" + teacher answers 2·teacher params·(tokens + examples·%d new)", spec.Train.MaxNewTokens)
				} else {
					flops += tn * tokens
					basis += " + teacher forward 2·teacher params·tokens"
				}
				p.Memory.Teacher, _ = tc.WeightBytes(llm.DTypeF32)
			}
			tref.Close()
		}
	}
	threads := runtime.GOMAXPROCS(0)
	rate := flopsPerThread * min(1, float64(cfg.HiddenSize)/flopsWidth)
	p.EstimatedSeconds = flops / (rate * float64(threads))
	p.EstimateBasis = fmt.Sprintf("FLOP estimate: %s at an assumed %.0f GFLOP/s per thread × %d threads (not a measured probe)",
		basis, rate/1e9, threads)
	p.PeakMemoryBytes = p.Memory.Weights + p.Memory.LoRA + p.Memory.Activations + p.Memory.Teacher
	return p, nil
}

// loraParams counts the adapter parameters r·(in+out) of every target
// module in every layer.
func loraParams(c llm.Config, p PEFTSpec) int64 {
	h, f, q, kv := int64(c.HiddenSize), int64(c.IntermediateSize), int64(c.QDim()), int64(c.KVDim())
	dims := map[string][2]int64{"q_proj": {h, q}, "k_proj": {h, kv}, "v_proj": {h, kv}, "o_proj": {q, h},
		"gate_proj": {h, f}, "up_proj": {h, f}, "down_proj": {f, h}}
	var n int64
	for _, t := range p.TargetModules {
		d := dims[t]
		n += int64(p.R) * (d[0] + d[1])
	}
	return n * int64(c.NumLayers)
}

// activationBytes estimates the saved activations of a micro-batch of T
// tokens (f32) packed from sequences of about seq tokens, and their
// gradients: per layer the norms, q/k/v, attention output and
// probabilities (within each sequence), MLP gate/up/activation and
// residuals; with gradient checkpointing only each layer's input plus one
// layer's full set. The LM head works in chunks of 256 rows.
func activationBytes(c llm.Config, T, seq int64, checkpointing bool) int64 {
	h, f, q, kv := int64(c.HiddenSize), int64(c.IntermediateSize), int64(c.QDim()), int64(c.KVDim())
	perLayer := T * (6*h + 2*q + 2*kv + 3*f)
	perLayer += int64(c.NumHeads) * T * max(seq, 1) // attention probabilities
	layers := int64(c.NumLayers) * perLayer
	if checkpointing {
		layers = int64(c.NumLayers)*T*h + perLayer
	}
	head := 2 * min(T, 256) * int64(c.VocabSize)
	grads := 2 * perLayer // gradients of one layer's activations at a time
	return 4 * (layers + head + grads + T*h)
}
