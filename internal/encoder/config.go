package encoder

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Sentinel errors.
var (
	// ErrConfig reports a config.json this package cannot use.
	ErrConfig = errors.New("encoder: bad config")
	// ErrWeights reports missing or misshapen weights.
	ErrWeights = errors.New("encoder: bad weights")
	// ErrInput reports token ids the model cannot take.
	ErrInput = errors.New("encoder: bad input")
)

// Config is the part of a BERT config.json the encoder reads.
type Config struct {
	Architectures         []string          `json:"architectures"`
	VocabSize             int               `json:"vocab_size"`
	HiddenSize            int               `json:"hidden_size"`
	NumHiddenLayers       int               `json:"num_hidden_layers"`
	NumAttentionHeads     int               `json:"num_attention_heads"`
	IntermediateSize      int               `json:"intermediate_size"`
	HiddenAct             string            `json:"hidden_act"`
	MaxPositionEmbeddings int               `json:"max_position_embeddings"`
	TypeVocabSize         int               `json:"type_vocab_size"`
	LayerNormEps          float64           `json:"layer_norm_eps"`
	PositionEmbeddingType string            `json:"position_embedding_type"`
	ID2Label              map[string]string `json:"id2label"`
	NumLabels             int               `json:"num_labels"`
}

// LoadConfig reads and validates dir/config.json.
func LoadConfig(dir string) (Config, error) {
	var c Config
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return c, fmt.Errorf("encoder: read config: %w", err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if c.HiddenAct == "" {
		c.HiddenAct = "gelu"
	}
	if c.LayerNormEps == 0 {
		c.LayerNormEps = 1e-12
	}
	if c.TypeVocabSize == 0 {
		c.TypeVocabSize = 2
	}
	if c.NumLabels == 0 {
		c.NumLabels = len(c.ID2Label)
	}
	return c, c.Validate()
}

// Validate checks the shapes the forward pass relies on.
func (c Config) Validate() error {
	switch {
	case c.VocabSize <= 0 || c.HiddenSize <= 0 || c.NumHiddenLayers <= 0 || c.IntermediateSize <= 0:
		return fmt.Errorf("%w: sizes must be positive", ErrConfig)
	case c.NumAttentionHeads <= 0 || c.HiddenSize%c.NumAttentionHeads != 0:
		return fmt.Errorf("%w: hidden_size %d not divisible by num_attention_heads %d", ErrConfig, c.HiddenSize, c.NumAttentionHeads)
	case c.MaxPositionEmbeddings <= 0:
		return fmt.Errorf("%w: max_position_embeddings must be positive", ErrConfig)
	case c.PositionEmbeddingType != "" && c.PositionEmbeddingType != "absolute":
		return fmt.Errorf("%w: position_embedding_type %q (only absolute)", ErrConfig, c.PositionEmbeddingType)
	}
	if _, err := activation(c.HiddenAct); err != nil {
		return err
	}
	return nil
}

// IsClassifier reports whether the config describes BertForSequenceClassification.
func (c Config) IsClassifier() bool {
	for _, a := range c.Architectures {
		if a == "BertForSequenceClassification" {
			return true
		}
	}
	return false
}
