package finetune

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/whet-dev/whet/internal/dataset"
)

// RunSpec is the body of POST /v1/projects/{project_id}/training/runs (PRD
// §11.2). Zero values take the defaults noted.
type RunSpec struct {
	BaseModel string      `json:"base_model" doc:"A model folder on the server, a registered model version (mv_…) or hf://org/name."`
	Method    string      `json:"method" enum:"sft,dpo,ipo,distill"`
	PEFT      PEFTSpec    `json:"peft,omitempty"`
	Train     TrainSpec   `json:"train"`
	Eval      *EvalSpec   `json:"eval,omitempty"`
	Infra     *InfraSpec  `json:"infra,omitempty"`
	Callbacks *Callbacks  `json:"callbacks,omitempty"`
	Name      string      `json:"name,omitempty"`
	Register  *RegisterTo `json:"register,omitempty"`
}

// PEFTSpec configures the adapters (PEFT's LoraConfig plus bitsandbytes
// flags for the frozen base).
type PEFTSpec struct {
	Type          string   `json:"type,omitempty" enum:"lora,qlora" doc:"lora (default) or qlora (frozen NF4 base)."`
	R             int      `json:"r,omitempty" doc:"Rank (default 8)."`
	Alpha         float64  `json:"alpha,omitempty" doc:"lora_alpha (default 2·r)."`
	Dropout       *float64 `json:"dropout,omitempty" doc:"lora_dropout (default 0.05)."`
	TargetModules []string `json:"target_modules,omitempty" doc:"Default q_proj, v_proj."`
	BNB4Bit       bool     `json:"bnb_4bit,omitempty"`
	BNB8Bit       bool     `json:"bnb_8bit,omitempty" doc:"qlora: int8 base instead of NF4."`
	UseRSLoRA     bool     `json:"use_rslora,omitempty"`
}

// TrainSpec holds the data and optimisation settings.
type TrainSpec struct {
	DatasetID             string     `json:"dataset_id"`
	DatasetVersion        string     `json:"dataset_version,omitempty" doc:"A semantic version, lineage hash or latest (default)."`
	ValidationSplit       string     `json:"validation_split,omitempty" doc:"Split held out for validation loss (default validation, when the version has one)."`
	Epochs                int        `json:"epochs,omitempty" doc:"Default 1."`
	BatchSize             int        `json:"batch_size,omitempty" doc:"Examples packed per micro-batch (default 4)."`
	GradAccum             int        `json:"grad_accum,omitempty" doc:"Micro-batches per optimizer step (default 1)."`
	LR                    float64    `json:"lr,omitempty" doc:"Peak learning rate (default 2e-4)."`
	Schedule              string     `json:"schedule,omitempty" enum:"linear,cosine,constant"`
	WarmupSteps           int        `json:"warmup_steps,omitempty"`
	WeightDecay           float64    `json:"weight_decay,omitempty"`
	MaxGradNorm           *float64   `json:"max_grad_norm,omitempty" doc:"Global gradient-norm clip (default 1; 0: none)."`
	MaxSeqLen             int        `json:"max_seq_len,omitempty" doc:"Tokens per example (default 512)."`
	GradientCheckpointing bool       `json:"gradient_checkpointing,omitempty"`
	MixedPrecision        string     `json:"mixed_precision,omitempty" enum:"no,bf16" doc:"bf16 stores the frozen base in bf16 (lora only)."`
	Seed                  *uint64    `json:"seed,omitempty" doc:"Default 42."`
	MaxSteps              int        `json:"max_steps,omitempty"`
	CheckpointEvery       int        `json:"checkpoint_every,omitempty" doc:"Steps between checkpoints into the object store (default 50)."`
	EvalEvery             int        `json:"eval_every,omitempty" doc:"Optimizer steps between validation passes (default 0: one pass per epoch). Needs validation records."`
	Beta                  float64    `json:"beta,omitempty" doc:"DPO β or IPO τ (default 0.1)."`
	RPOAlpha              float64    `json:"rpo_alpha,omitempty" doc:"dpo/ipo: weight of an NLL term on the chosen answers (RPO), which keeps their likelihood from falling (default 0: none)."`
	TeacherModel          string     `json:"teacher_model,omitempty" doc:"distill: teacher model (same forms as base_model)."`
	Temperature           float64    `json:"temperature,omitempty" doc:"distill: softmax temperature (default 2)."`
	DistillMode           string     `json:"distill_mode,omitempty" enum:"logits,sequence" doc:"distill: logits (default: KL to the teacher's token distributions) or sequence (SFT on the teacher's greedy answers to the training prompts)."`
	MaxNewTokens          int        `json:"max_new_tokens,omitempty" doc:"distill, distill_mode sequence: longest teacher answer in tokens (default 256)."`
	InitAdapter           string     `json:"init_adapter,omitempty" doc:"Continual run: start from this model version's adapter (mv_…)."`
	NewSince              string     `json:"new_since,omitempty" doc:"Continual run: train only on records that are not in this earlier version of the dataset (a semantic version or lineage hash)."`
	UpdatedAfter          string     `json:"updated_after,omitempty" doc:"Freshness window: train only on records whose metadata timestamp (updated_at, timestamp, created_at or date) is at or after this date (2026-01-31) or RFC 3339 time."`
	Replay                *Replay    `json:"replay,omitempty"`
	Mix                   []MixEntry `json:"mix,omitempty" doc:"More datasets (latest versions) mixed in by weight; the main dataset weighs 1."`
}

// Replay mixes older records into a continual run.
type Replay struct {
	DatasetID string  `json:"dataset_id"`
	Ratio     float64 `json:"ratio"`
}

// MixEntry weights one more dataset in multi-task mixing.
type MixEntry struct {
	DatasetID string  `json:"dataset_id"`
	Weight    float64 `json:"weight"`
}

// EvalSpec names the evaluation to run after training (recorded; the
// evaluation service reads it).
type EvalSpec struct {
	Suite      []string           `json:"suite,omitempty"`
	Thresholds map[string]float64 `json:"thresholds,omitempty"`
}

// InfraSpec asks for compute. Only the embedded CPU engine is available:
// GPUs, nodes and distributed strategies are refused, never ignored.
type InfraSpec struct {
	GPUs     int    `json:"gpus,omitempty"`
	GPUType  string `json:"gpu_type,omitempty"`
	Strategy string `json:"strategy,omitempty"`
	Nodes    int    `json:"nodes,omitempty"`
}

// Callbacks configure training callbacks.
type Callbacks struct {
	EarlyStopping *EarlyStopping `json:"early_stopping,omitempty"`
}

// EarlyStopping stops when the validation metric has not improved for
// Patience evaluations.
type EarlyStopping struct {
	Patience int     `json:"patience"`
	Metric   string  `json:"metric,omitempty" doc:"val_loss (default)."`
	MinDelta float64 `json:"min_delta,omitempty" doc:"A pass improves only when its validation loss beats the best so far by more than this (default 0)."`
}

// RegisterTo names the model a succeeded run registers a version of.
type RegisterTo struct {
	ModelName string `json:"model_name"`
}

// specSchema is the JSON Schema every run body must satisfy.
const specSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["base_model", "method", "train"],
  "properties": {
    "project_id": {"type": "string", "maxLength": 64},
    "base_model": {"type": "string", "minLength": 1, "maxLength": 1024},
    "method": {"enum": ["sft", "dpo", "ipo", "distill"]},
    "name": {"type": "string", "maxLength": 128, "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$"},
    "peft": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "type": {"enum": ["lora", "qlora"]},
        "r": {"type": "integer", "minimum": 1, "maximum": 1024},
        "alpha": {"type": "number", "exclusiveMinimum": 0, "maximum": 100000},
        "dropout": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
        "target_modules": {"type": "array", "minItems": 1, "uniqueItems": true,
          "items": {"enum": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]}},
        "bnb_4bit": {"type": "boolean"},
        "bnb_8bit": {"type": "boolean"},
        "use_rslora": {"type": "boolean"}
      }
    },
    "train": {
      "type": "object", "additionalProperties": false,
      "required": ["dataset_id"],
      "properties": {
        "dataset_id": {"type": "string", "minLength": 1, "maxLength": 64},
        "dataset_version": {"type": "string", "minLength": 1, "maxLength": 80},
        "validation_split": {"type": "string", "minLength": 1, "maxLength": 64},
        "epochs": {"type": "integer", "minimum": 1, "maximum": 1000},
        "batch_size": {"type": "integer", "minimum": 1, "maximum": 4096},
        "grad_accum": {"type": "integer", "minimum": 1, "maximum": 4096},
        "lr": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "schedule": {"enum": ["linear", "cosine", "constant"]},
        "warmup_steps": {"type": "integer", "minimum": 0, "maximum": 10000000},
        "weight_decay": {"type": "number", "minimum": 0, "maximum": 10},
        "max_grad_norm": {"type": "number", "minimum": 0, "maximum": 1000000},
        "max_seq_len": {"type": "integer", "minimum": 2, "maximum": 131072},
        "gradient_checkpointing": {"type": "boolean"},
        "mixed_precision": {"enum": ["no", "bf16"]},
        "seed": {"type": "integer", "minimum": 0, "maximum": 9007199254740991},
        "max_steps": {"type": "integer", "minimum": 0, "maximum": 100000000},
        "checkpoint_every": {"type": "integer", "minimum": 0, "maximum": 100000000},
        "eval_every": {"type": "integer", "minimum": 0, "maximum": 100000000},
        "beta": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
        "rpo_alpha": {"type": "number", "minimum": 0, "maximum": 1000},
        "teacher_model": {"type": "string", "minLength": 1, "maxLength": 1024},
        "temperature": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
        "distill_mode": {"enum": ["logits", "sequence"]},
        "max_new_tokens": {"type": "integer", "minimum": 1, "maximum": 131072},
        "init_adapter": {"type": "string", "pattern": "^mv_[a-z0-9]+$", "maxLength": 64},
        "new_since": {"type": "string", "minLength": 1, "maxLength": 80},
        "updated_after": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2}))?$", "maxLength": 40},
        "replay": {
          "type": "object", "additionalProperties": false, "required": ["dataset_id", "ratio"],
          "properties": {
            "dataset_id": {"type": "string", "minLength": 1, "maxLength": 64},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
          }
        },
        "mix": {
          "type": "array", "maxItems": 32,
          "items": {
            "type": "object", "additionalProperties": false, "required": ["dataset_id", "weight"],
            "properties": {
              "dataset_id": {"type": "string", "minLength": 1, "maxLength": 64},
              "weight": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000}
            }
          }
        }
      }
    },
    "eval": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "suite": {"type": "array", "maxItems": 64, "items": {"type": "string", "minLength": 1, "maxLength": 128}},
        "thresholds": {"type": "object", "maxProperties": 64, "additionalProperties": {"type": "number"}}
      }
    },
    "infra": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "gpus": {"type": "integer", "minimum": 0, "maximum": 4096},
        "gpu_type": {"type": "string", "maxLength": 64},
        "strategy": {"enum": ["", "none", "ddp", "fsdp", "deepspeed"]},
        "nodes": {"type": "integer", "minimum": 0, "maximum": 1024}
      }
    },
    "callbacks": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "early_stopping": {
          "type": "object", "additionalProperties": false, "required": ["patience"],
          "properties": {
            "patience": {"type": "integer", "minimum": 1, "maximum": 1000},
            "metric": {"enum": ["val_loss"]},
            "min_delta": {"type": "number", "minimum": 0, "maximum": 1000}
          }
        }
      }
    },
    "register": {
      "type": "object", "additionalProperties": false, "required": ["model_name"],
      "properties": {
        "model_name": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$"}
      }
    }
  }
}`

// Schema returns the JSON Schema of a run body.
func Schema() string { return specSchema }

var (
	schemaOnce sync.Once
	compiled   *jsonschema.Schema
	schemaErr  error
)

func runSchema() (*jsonschema.Schema, error) {
	schemaOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(specSchema))
		if err != nil {
			schemaErr = fmt.Errorf("finetune: run schema: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("whet://finetune/run.json", doc); err != nil {
			schemaErr = fmt.Errorf("finetune: run schema: %w", err)
			return
		}
		compiled, schemaErr = c.Compile("whet://finetune/run.json")
	})
	return compiled, schemaErr
}

// FieldError names one bad field of a run body by JSON pointer.
type FieldError struct {
	Field   string `json:"field"` // JSON pointer, e.g. /train/lr
	Message string `json:"message"`
}

// ValidationError lists what is wrong with a run body; the API answers it
// with 422 and one error per field.
type ValidationError struct {
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, f := range e.Errors {
		parts[i] = f.Field + ": " + f.Message
	}
	return "finetune: invalid run: " + strings.Join(parts, "; ")
}

func invalid(field, msg string) *ValidationError {
	return &ValidationError{Errors: []FieldError{{Field: field, Message: msg}}}
}

// ErrBackend marks a request for compute this server does not have.
var ErrBackend = errors.New("finetune: the cluster training backend is not configured")

// ParseSpec validates a run body against the schema and the engine's
// limits and decodes it. The body may carry a project_id (the CLI's file
// form), returned separately. Errors are *ValidationError.
func ParseSpec(body []byte) (RunSpec, string, error) {
	sch, err := runSchema()
	if err != nil {
		return RunSpec{}, "", err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return RunSpec{}, "", invalid("/", "not valid JSON: "+err.Error())
	}
	if err := sch.Validate(inst); err != nil {
		return RunSpec{}, "", &ValidationError{Errors: schemaErrors(err)}
	}
	var wire struct {
		RunSpec
		ProjectID string `json:"project_id"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return RunSpec{}, "", invalid("/", err.Error())
	}
	spec := wire.RunSpec
	if err := spec.check(); err != nil {
		return RunSpec{}, "", err
	}
	return spec, wire.ProjectID, nil
}

// check applies the rules a schema cannot state.
func (s *RunSpec) check() error {
	if in := s.Infra; in != nil {
		switch {
		case in.GPUs > 0:
			return invalid("/infra/gpus", ErrBackend.Error()+": this server trains on its CPUs only (no GPU workers); remove infra.gpus")
		case in.GPUType != "":
			return invalid("/infra/gpu_type", ErrBackend.Error()+": this server trains on its CPUs only; remove infra.gpu_type")
		case in.Strategy != "" && in.Strategy != "none":
			return invalid("/infra/strategy", ErrBackend.Error()+": "+in.Strategy+" needs a GPU cluster backend; remove infra.strategy")
		case in.Nodes > 1:
			return invalid("/infra/nodes", ErrBackend.Error()+": multi-node training needs a cluster backend")
		}
	}
	if s.PEFT.BNB8Bit && s.PEFT.Type != "qlora" {
		return invalid("/peft/bnb_8bit", "bnb_8bit quantises the frozen base and needs peft.type qlora")
	}
	if s.PEFT.BNB4Bit && s.PEFT.Type != "qlora" {
		return invalid("/peft/bnb_4bit", "bnb_4bit quantises the frozen base and needs peft.type qlora")
	}
	if s.PEFT.Type == "qlora" && s.Train.MixedPrecision == "bf16" {
		return invalid("/train/mixed_precision", "qlora keeps the base in NF4/int8; bf16 applies to lora only")
	}
	if s.Method == "distill" && s.Train.TeacherModel == "" {
		return invalid("/train/teacher_model", "method distill needs a teacher_model")
	}
	if s.Method != "distill" && s.Train.TeacherModel != "" {
		return invalid("/train/teacher_model", "teacher_model is for method distill")
	}
	if s.Method != "distill" && s.Train.DistillMode != "" {
		return invalid("/train/distill_mode", "distill_mode is for method distill")
	}
	if s.Train.MaxNewTokens != 0 && (s.Method != "distill" || s.Train.DistillMode != "sequence") {
		return invalid("/train/max_new_tokens", "max_new_tokens bounds the teacher's answers of method distill with distill_mode sequence")
	}
	if s.Train.RPOAlpha > 0 && s.Method != "dpo" && s.Method != "ipo" {
		return invalid("/train/rpo_alpha", "rpo_alpha adds an NLL term to dpo or ipo; it is not for "+s.Method)
	}
	if (s.Method == "dpo" || s.Method == "ipo") && s.Train.Replay != nil {
		return invalid("/train/replay", "replay mixes SFT records; it is not supported for "+s.Method)
	}
	if len(s.Train.Mix) > 0 && (s.Method == "dpo" || s.Method == "ipo") {
		return invalid("/train/mix", "weighted mixing combines SFT records; it is not supported for "+s.Method)
	}
	return nil
}

// defaultMaxNewTokens bounds the teacher's answers in sequence-level
// distillation, as whet train --max-new-tokens does.
const defaultMaxNewTokens = 256

// withDefaults returns s with every default filled in: the resolved config
// a plan shows and a run records.
func (s RunSpec) withDefaults() RunSpec {
	if s.PEFT.Type == "" {
		s.PEFT.Type = "lora"
	}
	if s.PEFT.R == 0 {
		s.PEFT.R = 8
	}
	if s.PEFT.Alpha == 0 {
		s.PEFT.Alpha = float64(2 * s.PEFT.R)
	}
	if s.PEFT.Dropout == nil {
		d := 0.05
		s.PEFT.Dropout = &d
	}
	if len(s.PEFT.TargetModules) == 0 {
		s.PEFT.TargetModules = []string{"q_proj", "v_proj"}
	}
	if s.PEFT.Type == "qlora" && !s.PEFT.BNB8Bit {
		s.PEFT.BNB4Bit = true
	}
	t := &s.Train
	t.Epochs = max(t.Epochs, 1)
	if t.BatchSize == 0 {
		t.BatchSize = 4
	}
	t.GradAccum = max(t.GradAccum, 1)
	if t.LR == 0 {
		t.LR = 2e-4
	}
	if t.Schedule == "" {
		t.Schedule = "linear"
	}
	if t.MaxGradNorm == nil {
		n := 1.0
		t.MaxGradNorm = &n
	}
	if t.MaxSeqLen == 0 {
		t.MaxSeqLen = 512
	}
	if t.MixedPrecision == "" {
		t.MixedPrecision = "no"
	}
	if t.Seed == nil {
		seed := uint64(42)
		t.Seed = &seed
	}
	if t.CheckpointEvery == 0 {
		t.CheckpointEvery = 50
	}
	if t.Beta == 0 {
		t.Beta = 0.1
	}
	if s.Method == "distill" && t.Temperature == 0 {
		t.Temperature = 2
	}
	if s.Method == "distill" && t.DistillMode == "" {
		t.DistillMode = "logits"
	}
	if t.DistillMode == "sequence" && t.MaxNewTokens == 0 {
		t.MaxNewTokens = defaultMaxNewTokens
	}
	if t.DatasetVersion == "" {
		t.DatasetVersion = "latest"
	}
	return s
}

// schemaErrors turns a validation error into field errors, sorted by field.
func schemaErrors(err error) []FieldError {
	les := dataset.SchemaFieldErrors(err)
	out := make([]FieldError, len(les))
	for i, le := range les {
		out[i] = FieldError{Field: cmp.Or(le.Field, "/"), Message: le.Message}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}
