// Package finetune runs fine-tuning as platform work: a training run is a
// validated RunSpec (the PRD's body, checked against a JSON Schema) that
// becomes a durable training.run job. The job loads the base model (a
// folder, a registered model version, or hf:// through a resolver), reads
// the pinned dataset version from the object store, trains with
// internal/train, reports progress and a metrics history, checkpoints into
// the object store and resumes exactly after a crash. A succeeded run
// registers a model version — the PEFT adapter folder, the base model's
// tokenizer files, the chat template hash, the dataset version's lineage
// hash and the run's config and metrics — in the same transaction that
// completes its job, so each run registers exactly one version.
//
// Plan answers a dry run: examples, tokens, steps, an estimated time and
// peak memory, without enqueueing anything.
package finetune
