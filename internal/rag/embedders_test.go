package rag

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeEmbeddings is a local OpenAI-compatible /v1/embeddings upstream: it
// embeds with hashEmbedder, answers the vectors in reverse order (clients
// must place them by "index"), and checks the model name and the key.
func fakeEmbeddings(t *testing.T, dim int, key string, calls *atomic.Int32) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/embeddings" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+key {
			http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
			return
		}
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != "fake-embed" {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		calls.Add(1)
		vecs, _ := hashEmbedder{dim}.Embed(r.Context(), req.Input)
		type item struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var data []item
		for i := len(vecs) - 1; i >= 0; i-- {
			data = append(data, item{i, vecs[i]})
		}
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestOpenAIEmbedderAgainstFakeUpstream(t *testing.T) {
	ctx := context.Background()
	var calls atomic.Int32
	srv := fakeEmbeddings(t, 48, "sk-test", &calls)
	lookup := func(name string) (string, bool) {
		if name == "EMBED_KEY" {
			return "sk-test", true
		}
		return "", false
	}
	// No dim given: the width is learnt from one probe.
	e, err := NewEmbedder(EmbeddingSpec{Type: "openai", URL: srv.URL, Model: "fake-embed", APIKeyEnv: "EMBED_KEY"}, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if e.Dim() != 48 || calls.Load() != 1 {
		t.Fatalf("dim %d after %d calls, want 48 after the probe", e.Dim(), calls.Load())
	}
	dir := t.TempDir()
	x, err := Create(dir, Config{Chunking: ChunkConfig{ChildTokens: 16}}, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Upsert(ctx, docs); err != nil {
		t.Fatal(err)
	}
	hits, err := x.Search(ctx, Query{Text: "rotate credentials laptops disk encryption", K: 3, Mode: "dense"})
	if err != nil || len(hits) == 0 || hits[0].Citation.DocumentID != "secret" {
		t.Fatalf("dense hits %+v, err %v", hits, err)
	}
	// Reopened from disk, the index embeds queries through the upstream again.
	re, err := Open(dir, 0, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := calls.Load()
	if hits, err := re.Search(ctx, Query{Text: "receipts for expenses", K: 1, Mode: "dense"}); err != nil || hits[0].Citation.DocumentID != "expense" {
		t.Fatalf("reopened: %+v %v", hits, err)
	}
	if calls.Load() != before+1 {
		t.Fatalf("a dense query made %d upstream calls, want 1", calls.Load()-before)
	}

	// A wrong key is an error that says what the upstream answered.
	bad, err := NewEmbedder(EmbeddingSpec{Type: "openai", URL: srv.URL + "/v1", Model: "fake-embed", Dim: 48}, nil)
	if err != nil {
		t.Fatal(err) // with dim given no probe is made
	}
	if _, err := bad.Embed(ctx, []string{"x"}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("unauthorised upstream: err = %v", err)
	}
	// A width that disagrees with dim is refused.
	wrong, _ := NewEmbedder(EmbeddingSpec{Type: "openai", URL: srv.URL, Model: "fake-embed", APIKeyEnv: "EMBED_KEY", Dim: 64}, lookup)
	if _, err := wrong.Embed(ctx, []string{"x"}); err == nil {
		t.Fatal("a 48-d answer for a 64-d spec was accepted")
	}
}

func TestNativeEmbedderCountsModelTokens(t *testing.T) {
	ctx := context.Background()
	e, err := NewEmbedder(EmbeddingSpec{Type: "native", Model: filepath.Join("..", "encoder", "testdata", "tiny-bert")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tc, ok := e.(TokenCounter)
	if !ok {
		t.Fatal("the native embedder does not count tokens")
	}
	x, err := Create(t.TempDir(), Config{Chunking: ChunkConfig{ChildTokens: 16}}, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	if x.Count == nil || x.Count("Receipts are required") != tc.CountTokens("Receipts are required") {
		t.Fatal("the index does not measure chunks with the model's tokenizer")
	}
	if _, err := x.Upsert(ctx, docs); err != nil {
		t.Fatal(err)
	}
	x.mu.RLock()
	chunks := append([]ChunkRecord(nil), x.st.Chunks...)
	x.mu.RUnlock()
	for _, c := range chunks {
		if n := tc.CountTokens(c.Text); n > 16 && strings.ContainsAny(strings.TrimSpace(c.Text), " ") {
			t.Errorf("chunk %q is %d model tokens, over the 16-token budget", c.Text, n)
		}
	}
	// The model is random, but a chunk's own text is its nearest neighbour.
	q := chunks[len(chunks)-1]
	hits, err := x.Search(ctx, Query{Text: q.Text, K: 1, Mode: "dense"})
	if err != nil || len(hits) != 1 || hits[0].ChunkID != q.ID {
		t.Fatalf("dense search for a chunk's text: %+v %v", hits, err)
	}
}
