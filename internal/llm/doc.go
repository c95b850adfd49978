// Package llm is whet's Llama-family decoder: LlamaForCausalLM,
// MistralForCausalLM (sliding-window attention) and Qwen2ForCausalLM (q/k/v
// bias, tied embeddings), loaded from Hugging Face model folders (Load),
// created with random weights from a preset shape (Preset, New), and saved
// back as Hugging Face folders (Model.Save). It holds the forward pass for
// inference and the forward and backward passes for training.
//
// The engine follows llm.c: every layer is a free function over concrete
// []float32 buffers with explicit shapes (EmbeddingForward, RMSNormForward,
// RoPEForward, AttentionForward, SwiGLUForward), writing into caller-owned
// buffers and saving what a backward pass needs; each has a backward
// (EmbeddingBackward, RMSNormBackward, RoPEBackward, AttentionBackward,
// SwiGLUBackward, LinearBackward) that mirrors it in reverse, plus the
// objectives' (CrossEntropyForward/Backward, DistillForward/Backward for
// the KL to a teacher's logits). Every linear map goes through
// Linear.Forward, which holds a frozen weight of any storage format (f32,
// bf16, int8, NF4 from internal/tensor) plus an optional bias and an
// optional Delta hook where a LoRA adapter adds its low-rank update.
//
// Inference keeps a KVCache per sequence. Model.Forward runs a batch of
// prompt tokens through one sequence (prefill: every linear is one SGEMM over
// all tokens, attention is SGEMM per head), and Model.DecodeBatch advances
// several sequences by one token each, every sequence at its own position.
// A Model is safe for concurrent use; scratch buffers come from a per-model
// pool so steady-state decoding does not allocate.
//
// Training runs over packed batches of documents (Batch; attention never
// crosses a document boundary). Trainer trains LoRA adapters (LoRAParams:
// every A and B, their gradients and AdamW moments in one buffer) over a
// frozen base of any storage format, so QLoRA is a Trainer over an NF4
// model; its forward can switch the adapters off (the DPO reference) and
// apply seeded LoRA dropout. FullTrainer trains every weight of an f32
// model (FullParams, one buffer in Hugging Face tensor order) for
// pretraining. Both support gradient checkpointing (recompute each layer's
// activations in backward). Adapters load and save in the PEFT layout
// (LoadAdapter, SaveAdapter), apply at inference without merging
// (Model.WithAdapter), or fold into the weights (Model.Merge).
//
// Every backward is checked against central finite differences with a
// stated tolerance, per operation and for a whole tiny model of each
// architecture, for the adapters and for every weight (backward_test.go,
// full_train_test.go); internal/train checks the DPO, IPO and
// distillation objectives the same way.
package llm
