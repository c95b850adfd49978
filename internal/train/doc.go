// Package train owns the training loops around the forward and backward
// passes of internal/llm: fine-tuning with LoRA adapters (Run) and
// full-parameter causal-LM pretraining (Pretrainer).
//
// Run fine-tunes a model's LoRA adapters with one of three objectives:
// SFT (Run.SFT: cross-entropy on the response tokens of packed examples),
// preference optimisation (Run.Preference: DPO, or IPO with
// Config.Method "ipo", against the same model with its adapters off as the
// reference, optionally with an NLL term on the chosen answers,
// Config.ChosenNLL) and logit distillation (Run.Distill: τ²·KL to a teacher that
// shares the vocabulary, checked by CheckTeacher). DistillSequences
// produces the targets of sequence-level distillation, the teacher's
// greedy answers, on which the student then trains with SFT. Every run has
// AdamW with decoupled weight decay, linear, cosine or constant schedules
// with warm-up, global-norm clipping, gradient accumulation, seeded
// determinism (same seed and config: the same loss curve), and checkpoints
// with exact resume (a resumed run's losses and weights equal an
// uninterrupted run's).
//
// A run may hold a validation set (Run.SetValidation,
// Run.SetValidationPairs): a pass every Config.EvalEvery steps or once per
// epoch, and early stopping after Config.Patience passes without a better
// validation loss (by more than Config.MinDelta), which restores the best
// pass's weights. Continual runs start from an earlier adapter
// (Run.InitFromAdapter) and mix in replay data (MixReplay); MixWeighted
// mixes several tasks by weight.
//
// Pretrainer trains every weight of an f32 model (llm.FullParams) on
// tokenized documents cut into windows that never attend across a document
// boundary: AdamW without decay on norms and biases, warm-up then cosine
// decay to a floor, an optional wall-clock bound that the schedule
// follows, a held-out loss, and checkpoints with exact resume.
//
// The forward and backward passes live in internal/llm (llm.Trainer for
// adapters, llm.FullTrainer for every weight); this package owns the
// loops, objectives that combine per-token results (sequence log-probs for
// DPO/IPO), optimizers, schedules, data formatting and checkpoints.
package train
