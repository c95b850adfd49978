package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Special tokens of the tokenizers whet trains, in id order (0, 1, 2):
// <|endoftext|> separates pretraining documents (and pads), <|im_start|>
// and <|im_end|> frame ChatML turns.
const (
	TokenEndOfText = "<|endoftext|>"
	TokenIMStart   = "<|im_start|>"
	TokenIMEnd     = "<|im_end|>"
)

// TrainedSpecialTokens returns the special tokens whet trains tokenizers
// with, in id order.
func TrainedSpecialTokens() []string { return []string{TokenEndOfText, TokenIMStart, TokenIMEnd} }

// ChatMLTemplate is the ChatML chat template (as SmolLM2-Instruct and
// Qwen2 use, without a default system message): every message becomes
// "<|im_start|>role\ncontent<|im_end|>\n", and the generation prompt opens
// an assistant turn.
const ChatMLTemplate = `{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`

// HFConfig is what a model folder's tokenizer_config.json and
// special_tokens_map.json say about a tokenizer.
type HFConfig struct {
	BOS, EOS, PAD string // token spellings; "" leaves the entry null
	// AddBOS makes Encode with special tokens prepend BOS (add_bos_token),
	// as pretraining saw every document start.
	AddBOS         bool
	ChatTemplate   string // "" writes no chat_template
	ModelMaxLength int    // 0: omitted
}

// DefaultHFConfig is the configuration of a tokenizer trained with
// TrainedSpecialTokens: documents start with <|endoftext|> (BOS, added
// when encoding with special tokens), chat turns end with <|im_end|> (EOS),
// padding is <|endoftext|>, and the chat template is ChatML.
func DefaultHFConfig(maxLen int) HFConfig {
	return HFConfig{BOS: TokenEndOfText, EOS: TokenIMEnd, PAD: TokenEndOfText, AddBOS: true,
		ChatTemplate: ChatMLTemplate, ModelMaxLength: maxLen}
}

// WriteHFConfig writes tokenizer_config.json and special_tokens_map.json
// for t into dir. Every token c names must be in t's vocabulary.
func (t *Tokenizer) WriteHFConfig(dir string, c HFConfig) error {
	tok := func(s string) (any, error) {
		if s == "" {
			return nil, nil
		}
		if _, ok := t.TokenToID(s); !ok {
			return nil, fmt.Errorf("tokenizer: config names %q, which is not in the vocabulary", s)
		}
		return s, nil
	}
	tc := map[string]any{
		"add_bos_token":                c.AddBOS,
		"add_eos_token":                false,
		"clean_up_tokenization_spaces": false,
		"tokenizer_class":              "PreTrainedTokenizerFast",
	}
	sm := map[string]any{}
	for _, e := range []struct{ key, val string }{{"bos_token", c.BOS}, {"eos_token", c.EOS}, {"pad_token", c.PAD}} {
		v, err := tok(e.val)
		if err != nil {
			return err
		}
		tc[e.key] = v
		if v != nil {
			sm[e.key] = v
		}
	}
	if c.ChatTemplate != "" {
		tc["chat_template"] = c.ChatTemplate
	}
	if c.ModelMaxLength > 0 {
		tc["model_max_length"] = c.ModelMaxLength
	}
	// added_tokens_decoder lets transformers rebuild the specials without
	// reading tokenizer.json's added_tokens.
	dec := map[string]any{}
	var extra []string
	for _, a := range t.AddedTokens() {
		dec[fmt.Sprint(a.ID)] = map[string]any{"content": a.Content, "lstrip": a.LStrip, "rstrip": a.RStrip,
			"normalized": a.Normalized, "single_word": a.SingleWord, "special": a.Special}
		if a.Special && a.Content != c.BOS && a.Content != c.EOS && a.Content != c.PAD {
			extra = append(extra, a.Content)
		}
	}
	tc["added_tokens_decoder"] = dec
	if len(extra) > 0 {
		tc["additional_special_tokens"] = extra
		sm["additional_special_tokens"] = extra
	}
	for name, v := range map[string]any{"tokenizer_config.json": tc, "special_tokens_map.json": sm} {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("tokenizer: %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("tokenizer: %w", err)
		}
	}
	return nil
}
