// Package tokenizer reads Hugging Face tokenizer.json files and encodes and
// decodes text exactly as the reference implementation does: byte-level BPE
// (GPT-2, Llama 3, Qwen, SmolLM), SentencePiece-style BPE with byte fallback
// (Llama 2, TinyLlama, Mistral) and WordPiece (BERT, bge, e5, gte, MiniLM).
// It owns the whole pipeline — added tokens, normalizers, pre-tokenizers, the
// model, post-processors and decoders — and a byte-level BPE trainer whose
// output the reference loads and encodes identically.
//
// Load reads a tokenizer.json (or a model folder, adding tokenizer_config.json
// for the bos/eos/pad names); Parse reads the bytes. Encode and
// EncodeWithOffsets split the text on added tokens first (leftmost longest,
// with lstrip/rstrip/single_word), then normalize, pre-tokenize and run the
// model on each piece between them, and finally let the post-processor add
// BOS/EOS when asked. Decode runs the decoders; TokenBytes gives the raw bytes
// a token stands for, for constrained decoding. Train learns a byte-level BPE
// with incremental pair counts, and Save writes it as tokenizer.json.
//
// The Llama 3, Qwen 2 and GPT-2 pre-tokenizer regexes (which need lookahead)
// run on hand-written scanners held identical to the regexp2 engine; other
// patterns run on regexp2. Where the Rust tokenizers library and
// transformers.js disagree, this package follows Rust (see
// testdata/tokref/SOURCES.md). The Unigram model and the SentencePiece
// Precompiled normalizer are not implemented and are reported as
// ErrUnsupported.
//
// A Tokenizer is immutable after Load, Parse or Train and safe for concurrent
// use.
package tokenizer
