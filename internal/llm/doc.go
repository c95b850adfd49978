// Package llm is whet's Llama-family decoder: LlamaForCausalLM,
// MistralForCausalLM (sliding-window attention) and Qwen2ForCausalLM (q/k/v
// bias, tied embeddings), loaded from Hugging Face model folders.
//
// The engine follows llm.c: every layer is a free function over concrete
// []float32 buffers with explicit shapes (EmbeddingForward, RMSNormForward,
// RoPEForward, AttentionForward, SwiGLUForward), writing into caller-owned
// buffers and saving what a backward pass needs. Every linear map goes
// through Linear.Forward, which holds a frozen weight of any storage format
// (f32, bf16, int8, NF4 from internal/tensor) plus an optional bias and an
// optional Delta hook where a LoRA adapter adds its low-rank update.
//
// Inference keeps a KVCache per sequence. Model.Forward runs a batch of
// prompt tokens through one sequence (prefill: every linear is one SGEMM over
// all tokens, attention is SGEMM per head), and Model.DecodeBatch advances
// several sequences by one token each, every sequence at its own position.
// A Model is safe for concurrent use; scratch buffers come from a per-model
// pool so steady-state decoding does not allocate.
package llm
