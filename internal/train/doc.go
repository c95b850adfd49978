// Package train fine-tunes a native model with LoRA adapters: AdamW with
// decoupled weight decay, linear or cosine schedules with warm-up,
// global-norm clipping, gradient accumulation, packed batches, seeded
// determinism, checkpoints with exact resume, and the SFT, DPO/IPO and
// logit-distillation objectives; continual runs start from an earlier
// adapter and mix in replay data. The forward and backward passes live in
// internal/llm (llm.Trainer); this package owns the loop around them.
package train
