package rag

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rewriteSnapshot decodes an index version file, lets edit change it and
// writes it back in place.
func rewriteSnapshot(t *testing.T, dir string, version int, edit func(st *state)) {
	t.Helper()
	name := filepath.Join(dir, fmt.Sprintf("v%06d.gob", version))
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	var st state
	err = gob.NewDecoder(f).Decode(&st)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	edit(&st)
	out, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := gob.NewEncoder(out).Encode(&st); err != nil {
		t.Fatal(err)
	}
}

// TestOpenRejectsBadSnapshot corrupts a committed version in the ways a
// damaged disk or a file copied from another index would, and checks that
// Open refuses it with an error naming the index directory, the fault and
// the remedy, instead of panicking or answering from it later.
func TestOpenRejectsBadSnapshot(t *testing.T) {
	ctx := context.Background()
	build := func(t *testing.T, dim int, ds []Doc) string {
		dir := t.TempDir()
		x, err := Create(dir, Config{Chunking: ChunkConfig{ChildTokens: 16}}, hashEmbedder{dim}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x.Upsert(ctx, ds); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	foreign := build(t, 64, docs[:1])
	var foreignGraph *HNSW
	rewriteSnapshot(t, foreign, 1, func(st *state) { foreignGraph = st.HNSW })
	cases := []struct {
		name string
		edit func(st *state)
		want string
	}{
		{"link out of range", func(st *state) {
			h := st.HNSW
			h.L0[0], h.L0[1] = 1, int32(h.Len()+7)
		}, "link to"},
		{"link count over capacity", func(st *state) { st.HNSW.L0[0] = int32(2*st.HNSW.M + 1) }, "slots"},
		{"entry point out of range", func(st *state) { st.HNSW.Entry = int32(st.HNSW.Len()) }, "entry point"},
		{"entry point below the top layer", func(st *state) { st.HNSW.MaxLevel += 3 }, "top layer"},
		{"truncated vectors", func(st *state) { st.HNSW.Vecs = st.HNSW.Vecs[:len(st.HNSW.Vecs)-1] }, "floats"},
		{"truncated link slab", func(st *state) { st.HNSW.L0 = st.HNSW.L0[:len(st.HNSW.L0)-1] }, "slabs"},
		{"newer layout", func(st *state) { st.HNSW.Format = hnswFormat + 1 }, "layout"},
		{"graph of another index", func(st *state) { st.HNSW = foreignGraph }, "vectors for"},
		{"graph missing", func(st *state) { st.HNSW = nil }, "no HNSW graph"},
		{"chunk table short", func(st *state) { st.Chunks = st.Chunks[:len(st.Chunks)-1] }, "chunk table"},
		{"parent out of range", func(st *state) { st.Chunks[0].Parent = len(st.Parents) }, "parent"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := build(t, 64, docs)
			rewriteSnapshot(t, dir, 1, tc.edit)
			x, err := Open(dir, 0, hashEmbedder{64}, nil)
			if err == nil {
				t.Fatalf("opened a bad snapshot: %+v", x.Stats())
			}
			msg := err.Error()
			if !errors.Is(err, ErrIndex) || !strings.Contains(msg, dir) || !strings.Contains(msg, "rebuild the index") || !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q: want ErrIndex naming %s, %q and the remedy", msg, dir, tc.want)
			}
		})
	}
	t.Run("embedder of another dimension", func(t *testing.T) {
		dir := build(t, 64, docs)
		_, err := Open(dir, 0, hashEmbedder{32}, nil)
		if !errors.Is(err, ErrIndex) || !strings.Contains(err.Error(), "64-d") || !strings.Contains(err.Error(), "32-d") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("not a snapshot", func(t *testing.T) {
		dir := build(t, 64, docs)
		if err := os.WriteFile(filepath.Join(dir, "v000001.gob"), []byte("not gob at all"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(dir, 0, hashEmbedder{64}, nil); !errors.Is(err, ErrIndex) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("intact snapshot still opens", func(t *testing.T) {
		dir := build(t, 64, docs)
		rewriteSnapshot(t, dir, 1, func(*state) {})
		x, err := Open(dir, 0, hashEmbedder{64}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if hits, err := x.Search(ctx, Query{Text: "rail travel", K: 3, Mode: "dense"}); err != nil || len(hits) == 0 {
			t.Fatalf("search after reopen: %v %v", hits, err)
		}
	})
}
