// Package tokenizer reads Hugging Face tokenizer.json files and encodes and
// decodes text exactly as the reference implementation does: byte-level BPE
// (GPT-2, Llama 3, Qwen), SentencePiece-style BPE with byte fallback
// (Llama 2, TinyLlama) and WordPiece (BERT). It owns the whole pipeline —
// added tokens, normalizers, pre-tokenizers, the model, post-processors and
// decoders — and a byte-level BPE trainer whose output the reference loads.
//
// A Tokenizer is immutable after Load or Parse and safe for concurrent use.
package tokenizer
