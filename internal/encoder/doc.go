// Package encoder runs BERT-family encoders on the CPU: BertModel for sentence
// embeddings (bge, e5, gte, MiniLM) and BertForSequenceClassification cross-encoders
// for re-ranking.
//
// Load reads a Hugging Face folder (config.json, safetensors weights with or without the
// "bert." prefix, sentence-transformers' 1_Pooling and modules.json). The forward pass is
// the post-LN transformer: word + absolute position + token type embeddings and
// LayerNorm, then per layer self-attention and a GELU feed-forward block, each followed
// by residual add and LayerNorm. A batch is packed without padding rows and every
// sequence attends only to its own tokens, which is exactly what padding plus an
// attention mask computes. Linear layers run on float32 or per-channel int8 weights
// (Options.Int8).
//
// The package imports only the standard library and whet's compute packages; text goes
// through a Tokenizer interface that internal/tokenizer satisfies.
package encoder
