package encoder

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/whet-dev/whet/internal/safetensors"
)

// Preset returns a BERT shape by name: "minilm-l6" is the shape of
// all-MiniLM-L6-v2 and of cross-encoder/ms-marco-MiniLM-L-6-v2 (6 layers,
// hidden 384, 12 heads, FFN 1536, 30,522 WordPiece tokens, 512 positions);
// "tiny" is a 2-layer, 64-wide model for tests. crossEncoder makes it a
// BertForSequenceClassification with one label (a relevance logit).
func Preset(name string, crossEncoder bool) (Config, error) {
	var c Config
	switch name {
	case "minilm-l6":
		c = Config{VocabSize: 30522, HiddenSize: 384, NumHiddenLayers: 6, NumAttentionHeads: 12, IntermediateSize: 1536,
			MaxPositionEmbeddings: 512}
	case "tiny":
		c = Config{VocabSize: 1000, HiddenSize: 64, NumHiddenLayers: 2, NumAttentionHeads: 4, IntermediateSize: 128,
			MaxPositionEmbeddings: 128}
	default:
		return c, fmt.Errorf("%w: unknown preset %q (minilm-l6, tiny)", ErrConfig, name)
	}
	c.HiddenAct, c.TypeVocabSize, c.LayerNormEps = "gelu", 2, 1e-12
	c.PositionEmbeddingType = "absolute"
	c.Architectures = []string{"BertModel"}
	if crossEncoder {
		c.Architectures = []string{"BertForSequenceClassification"}
		c.NumLabels = 1
		c.ID2Label = map[string]string{"0": "LABEL_0"}
	}
	return c, c.Validate()
}

// WriteRandom writes a Hugging Face BERT folder with random weights to dir:
// config.json, model.safetensors (N(0, 0.02²) matrices and embeddings, unit
// LayerNorm, zero biases, as transformers initialises them) and a WordPiece
// tokenizer.json of cfg.VocabSize entries (the BERT specials, characters,
// two-letter pieces and generated pseudo-words). Its outputs are
// meaningless; it exists to measure speed and memory at a real model's
// shape without downloading one.
func WriteRandom(dir string, cfg Config, seed uint64) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("encoder: %w", err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	normal := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.02)
		}
		return v
	}
	ones := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = 1
		}
		return v
	}
	H, I := cfg.HiddenSize, cfg.IntermediateSize
	var ts []safetensors.Tensor
	add := func(name string, v []float32, shape ...int) {
		ts = append(ts, safetensors.F32Tensor(name, shape, v))
	}
	addDense := func(base string, out, in int) {
		add(base+".weight", normal(out*in), out, in)
		add(base+".bias", make([]float32, out), out)
	}
	addLN := func(base string) {
		add(base+".weight", ones(H), H)
		add(base+".bias", make([]float32, H), H)
	}
	add("bert.embeddings.word_embeddings.weight", normal(cfg.VocabSize*H), cfg.VocabSize, H)
	add("bert.embeddings.position_embeddings.weight", normal(cfg.MaxPositionEmbeddings*H), cfg.MaxPositionEmbeddings, H)
	add("bert.embeddings.token_type_embeddings.weight", normal(cfg.TypeVocabSize*H), cfg.TypeVocabSize, H)
	addLN("bert.embeddings.LayerNorm")
	for l := range cfg.NumHiddenLayers {
		p := fmt.Sprintf("bert.encoder.layer.%d.", l)
		addDense(p+"attention.self.query", H, H)
		addDense(p+"attention.self.key", H, H)
		addDense(p+"attention.self.value", H, H)
		addDense(p+"attention.output.dense", H, H)
		addLN(p + "attention.output.LayerNorm")
		addDense(p+"intermediate.dense", I, H)
		addDense(p+"output.dense", H, I)
		addLN(p + "output.LayerNorm")
	}
	addDense("bert.pooler.dense", H, H)
	if cfg.IsClassifier() {
		addDense("classifier", max(1, cfg.NumLabels), H)
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	full := map[string]any{
		"architectures": cfg.Architectures, "model_type": "bert", "vocab_size": cfg.VocabSize, "hidden_size": H,
		"num_hidden_layers": cfg.NumHiddenLayers, "num_attention_heads": cfg.NumAttentionHeads, "intermediate_size": I,
		"hidden_act": cfg.HiddenAct, "max_position_embeddings": cfg.MaxPositionEmbeddings, "type_vocab_size": cfg.TypeVocabSize,
		"layer_norm_eps": cfg.LayerNormEps, "position_embedding_type": "absolute", "pad_token_id": 0,
	}
	if cfg.IsClassifier() {
		full["num_labels"] = max(1, cfg.NumLabels)
		full["id2label"] = cfg.ID2Label
	}
	if err := writeJSON(filepath.Join(dir, "config.json"), full); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, "tokenizer.json"), wordPieceTokenizer(wordPieceVocab(cfg.VocabSize, rng)))
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("encoder: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("encoder: %w", err)
	}
	return nil
}

// bertSpecials are the BERT special tokens at ids 0–4.
var bertSpecials = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}

// wordPieceVocab lists n tokens: the specials, ASCII letters, digits and
// punctuation with their ## continuations, consonant-vowel pieces, then
// generated pseudo-words.
func wordPieceVocab(n int, rng *rand.Rand) []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if len(out) < n && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, s := range bertSpecials {
		add(s)
	}
	for c := byte('!'); c <= '~'; c++ {
		if c >= 'A' && c <= 'Z' {
			continue // the normaliser lowercases
		}
		add(string(c))
		add("##" + string(c))
	}
	cons, vows := "bcdfghjklmnprstvwz", "aeiou"
	for i := range cons {
		for j := range vows {
			p := cons[i:i+1] + vows[j:j+1]
			add(p)
			add("##" + p)
		}
	}
	for len(out) < n {
		b := make([]byte, 0, 12)
		for range 1 + rng.IntN(4) {
			b = append(b, cons[rng.IntN(len(cons))], vows[rng.IntN(len(vows))])
		}
		if rng.IntN(2) == 0 {
			b = append(b, cons[rng.IntN(len(cons))])
		}
		add(string(b))
	}
	return out
}

// wordPieceTokenizer is a Hugging Face tokenizer.json for a BERT WordPiece
// vocabulary (lowercasing BertNormalizer, BertPreTokenizer, [CLS]/[SEP]
// templates).
func wordPieceTokenizer(vocab []string) map[string]any {
	ids := make(map[string]int, len(vocab))
	for i, t := range vocab {
		ids[t] = i
	}
	var added []map[string]any
	for i, s := range bertSpecials {
		added = append(added, map[string]any{"id": i, "content": s, "single_word": false, "lstrip": false, "rstrip": false,
			"normalized": false, "special": true})
	}
	tok := func(id string, typ int) map[string]any {
		return map[string]any{"SpecialToken": map[string]any{"id": id, "type_id": typ}}
	}
	seq := func(id string, typ int) map[string]any {
		return map[string]any{"Sequence": map[string]any{"id": id, "type_id": typ}}
	}
	return map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil, "added_tokens": added,
		"normalizer": map[string]any{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
			"strip_accents": nil, "lowercase": true},
		"pre_tokenizer": map[string]any{"type": "BertPreTokenizer"},
		"post_processor": map[string]any{
			"type":   "TemplateProcessing",
			"single": []any{tok("[CLS]", 0), seq("A", 0), tok("[SEP]", 0)},
			"pair":   []any{tok("[CLS]", 0), seq("A", 0), tok("[SEP]", 0), seq("B", 1), tok("[SEP]", 1)},
			"special_tokens": map[string]any{
				"[CLS]": map[string]any{"id": "[CLS]", "ids": []int{2}, "tokens": []string{"[CLS]"}},
				"[SEP]": map[string]any{"id": "[SEP]", "ids": []int{3}, "tokens": []string{"[SEP]"}},
			},
		},
		"decoder": map[string]any{"type": "WordPiece", "prefix": "##", "cleanup": true},
		"model": map[string]any{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
			"max_input_chars_per_word": 100, "vocab": ids},
	}
}
