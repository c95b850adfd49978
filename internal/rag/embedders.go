package rag

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/whet-dev/whet/internal/encoder"
	"github.com/whet-dev/whet/internal/tokenizer"
)

// EmbeddingSpec chooses an index's embedder.
type EmbeddingSpec struct {
	// Type: "native" (a BERT-family model folder run by whet's encoder),
	// "openai" (any OpenAI-compatible /v1/embeddings upstream), "hash"
	// (model-free feature hashing, lexical), or "" / "none" for BM25 only.
	Type  string `json:"type,omitempty" enum:"native,openai,hash,none,"`
	Model string `json:"model,omitempty" doc:"native: model folder; openai: model name"`
	URL   string `json:"url,omitempty" doc:"openai: base URL of the upstream (…/v1 is appended when missing)"`
	// APIKeyEnv names an environment variable of the server holding the
	// upstream's key (never stored).
	APIKeyEnv string `json:"api_key_env,omitempty"`
	Dim       int    `json:"dim,omitempty" doc:"hash: dimensions (default 384); openai: expected width"`
	// Reranker is a cross-encoder model folder for re-ranking (optional).
	Reranker string `json:"reranker,omitempty"`
}

// NewEmbedder builds the embedder a spec names (nil for BM25 only). lookup
// reads the server's environment for APIKeyEnv.
func NewEmbedder(spec EmbeddingSpec, lookup func(string) (string, bool)) (Embedder, error) {
	switch spec.Type {
	case "", "none":
		return nil, nil
	case "hash":
		return NewHashEmbedder(spec.Dim), nil
	case "native":
		m, err := encoder.Load(spec.Model, encoder.Options{})
		if err != nil {
			return nil, fmt.Errorf("embedding model: %w", err)
		}
		tk, err := tokenizer.Load(spec.Model)
		if err != nil {
			return nil, fmt.Errorf("embedding tokenizer: %w", err)
		}
		return &nativeEmbedder{m: m, tk: tk}, nil
	case "openai":
		if spec.URL == "" || spec.Model == "" {
			return nil, fmt.Errorf("%w: openai embeddings need url and model", ErrIndex)
		}
		key := ""
		if spec.APIKeyEnv != "" && lookup != nil {
			key, _ = lookup(spec.APIKeyEnv)
		}
		e := &openAIEmbedder{url: strings.TrimRight(spec.URL, "/"), model: spec.Model, key: key, dim: spec.Dim,
			hc: &http.Client{Timeout: 60 * time.Second}}
		if e.dim <= 0 {
			// Learn the width from the upstream once.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			vs, err := e.Embed(ctx, []string{"dimension probe"})
			if err != nil {
				return nil, err
			}
			e.dim = len(vs[0])
		}
		return e, nil
	}
	return nil, fmt.Errorf("%w: unknown embedding type %q", ErrIndex, spec.Type)
}

// NewReranker loads a cross-encoder model folder (nil when path is empty).
func NewReranker(path string) (Reranker, error) {
	if path == "" {
		return nil, nil
	}
	m, err := encoder.Load(path, encoder.Options{})
	if err != nil {
		return nil, fmt.Errorf("reranker: %w", err)
	}
	tk, err := tokenizer.Load(path)
	if err != nil {
		return nil, fmt.Errorf("reranker tokenizer: %w", err)
	}
	return &nativeReranker{m: m, tk: tk}, nil
}

type nativeEmbedder struct {
	m  *encoder.Model
	tk *tokenizer.Tokenizer
}

func (e *nativeEmbedder) Dim() int { return e.m.Dim() }

// CountTokens counts text in the model's tokens (without [CLS]/[SEP]).
func (e *nativeEmbedder) CountTokens(text string) int { return len(e.tk.Encode(text, false)) }

var _ TokenCounter = (*nativeEmbedder)(nil)

func (e *nativeEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	var out [][]float32
	for i := 0; i < len(texts); i += 16 {
		vs, err := e.m.Embed(ctx, e.tk, texts[i:min(i+16, len(texts))])
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

type nativeReranker struct {
	m  *encoder.Model
	tk *tokenizer.Tokenizer
}

func (r *nativeReranker) Score(ctx context.Context, q string, ps []string) ([]float32, error) {
	return r.m.Score(ctx, r.tk, q, ps)
}

type openAIEmbedder struct {
	url, model, key string
	dim             int
	hc              *http.Client
}

func (e *openAIEmbedder) Dim() int { return e.dim }

func (e *openAIEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	body, _ := json.Marshal(map[string]any{"model": e.model, "input": texts})
	u := e.url
	if !strings.HasSuffix(u, "/v1") {
		u += "/v1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u+"/embeddings", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if e.key != "" {
		req.Header.Set("Authorization", "Bearer "+e.key)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("embeddings upstream: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("embeddings upstream answered %d: %.200s", resp.StatusCode, b)
	}
	var r struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("embeddings upstream: %w", err)
	}
	if len(r.Data) != len(texts) {
		return nil, fmt.Errorf("embeddings upstream returned %d vectors for %d inputs", len(r.Data), len(texts))
	}
	out := make([][]float32, len(texts))
	for _, d := range r.Data {
		if d.Index < 0 || d.Index >= len(out) || (e.dim > 0 && len(d.Embedding) != e.dim) {
			return nil, fmt.Errorf("embeddings upstream: bad vector at index %d", d.Index)
		}
		out[d.Index] = d.Embedding
	}
	return out, nil
}
