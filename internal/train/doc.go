// Package train fine-tunes a native model with LoRA adapters: AdamW with
// decoupled weight decay, linear or cosine schedules with warm-up,
// global-norm clipping, gradient accumulation, packed batches, seeded
// determinism, checkpoints with exact resume, and the SFT, DPO/IPO and
// logit-distillation objectives. DistillSequences produces the targets of
// sequence-level distillation (the teacher's greedy answers). A run may
// hold a validation set (Run.SetValidation, Run.SetValidationPairs):
// passes every Config.EvalEvery steps or once per epoch, and early stopping
// after Config.Patience passes without improvement, which restores the
// best pass's weights. Continual runs start from an earlier adapter and mix
// in replay data (MixReplay); MixWeighted mixes several tasks by weight.
// The forward and backward passes live in internal/llm (llm.Trainer); this
// package owns the loop around them.
package train
