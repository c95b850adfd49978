package rag

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Embedder turns texts into vectors (the native encoder or an
// OpenAI-compatible /v1/embeddings upstream).
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	Dim() int
}

// TokenCounter is implemented by embedders that know their model's
// tokenizer: chunk budgets are then measured in the model's own tokens
// (otherwise ApproxTokens estimates them), so a 128-token child fits the
// encoder's window as the config says.
type TokenCounter interface {
	CountTokens(text string) int
}

// Reranker scores (query, passage) pairs with a cross-encoder.
type Reranker interface {
	Score(ctx context.Context, query string, passages []string) ([]float32, error)
}

// Config describes an index. Zero values take the documented defaults.
type Config struct {
	Chunking ChunkConfig `json:"chunking"`
	BM25     BM25Config  `json:"bm25"`
	Dense    DenseConfig `json:"dense"`
}

// BM25Config sets the sparse side.
type BM25Config struct {
	K1       float64 `json:"k1,omitempty"`       // default 1.2
	B        float64 `json:"b,omitempty"`        // default 0.75
	Language string  `json:"language,omitempty"` // analyzer; default en
	// AnalyzerVersion is the analyzer version the index was built with
	// (see the AnalyzerVersion constant), set at creation; 0 on indexes
	// written before it was recorded.
	AnalyzerVersion int `json:"analyzer_version,omitempty" readOnly:"true" doc:"Set by the server at creation: the version of the analyzer the index is built and searched with (0 or absent: before Snowball stemming for languages other than English; rebuild the index to get it)."`
}

// DenseConfig sets the vector side; Dim 0 makes a BM25-only index.
type DenseConfig struct {
	Dim            int `json:"dim,omitempty"`
	M              int `json:"m,omitempty"`
	EfConstruction int `json:"ef_construction,omitempty"`
	EfSearch       int `json:"ef_search,omitempty"`
}

func (c Config) withDefaults() Config {
	c.Chunking = c.Chunking.withDefaults()
	if c.BM25.K1 == 0 {
		c.BM25.K1 = 1.2
	}
	if c.BM25.B == 0 {
		c.BM25.B = 0.75
	}
	if c.BM25.Language == "" {
		c.BM25.Language = "en"
	}
	return c
}

// Doc is a document to index.
type Doc struct {
	ID       string
	Text     string
	Source   string // source URI (for an upload, its file name): cited in hits
	Metadata map[string]any
	Sections []Section
}

// ChunkRecord is a stored chunk.
type ChunkRecord struct {
	ID         string
	DocID      string
	Source     string
	Start, End int // byte offsets in the document text
	// CharStart and CharEnd are the same span in characters (Unicode
	// code points); both 0 in snapshots written before they were kept.
	CharStart, CharEnd int
	Parent             int // index into the parents table
	SectionPath        []string
	AccessTag          string
	Metadata           map[string]any
	Text               string
}

// state is everything a version persists.
type state struct {
	Config   Config
	Version  int
	BM25     *BM25
	HNSW     *HNSW
	Chunks   []ChunkRecord
	Parents  []string
	DocOrds  map[string][]int
	MetaKeys map[string]bool
	Updated  time.Time
	// DocDigests holds each document's digest (docDigest) as last
	// upserted, so following a dataset re-indexes only what changed. Nil
	// in snapshots written before it was kept: every document then counts
	// as changed once.
	DocDigests map[string]string
}

// Index is a versioned hybrid index in a directory. Searches read the last
// committed version while an upsert builds the next one.
type Index struct {
	dir string
	emb Embedder
	rr  Reranker
	mu  sync.RWMutex
	st  *state
	an  *Analyzer
	// Count measures chunk budgets (the model's tokenizer when set).
	Count func(string) int
	// Clock times re-ranking against its budget (time.Now when nil).
	Clock func() time.Time
	wmu   sync.Mutex // one writer
}

func init() {
	// Metadata values are JSON-shaped; gob needs their concrete types.
	gob.Register(map[string]any{})
	gob.Register([]any{})
	gob.Register(json.Number(""))
	gob.Register([]string{})
	gob.Register([]map[string]any{})
}

// DefaultAccessTag is the access tag of documents that carry none, as at
// ingestion: every role that may read data may retrieve them.
const DefaultAccessTag = "internal"

// ErrIndex reports a missing or unreadable index directory.
var ErrIndex = errors.New("rag: index")

// Create makes a new empty index in dir.
func Create(dir string, cfg Config, emb Embedder, rr Reranker) (*Index, error) {
	cfg = cfg.withDefaults()
	lang, ok := CanonicalLanguage(cfg.BM25.Language)
	if !ok {
		return nil, &QueryError{"bm25.language", fmt.Sprintf("no analyzer for %q; one of %s", cfg.BM25.Language, strings.Join(Languages(), ", "))}
	}
	cfg.BM25.Language = lang
	cfg.BM25.AnalyzerVersion = AnalyzerVersion
	if emb != nil && cfg.Dense.Dim == 0 {
		cfg.Dense.Dim = emb.Dim()
	}
	if cfg.Dense.Dim > 0 && emb == nil {
		return nil, fmt.Errorf("%w: dense dim %d set but no embedder", ErrIndex, cfg.Dense.Dim)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrIndex, err)
	}
	st := &state{Config: cfg, BM25: NewBM25(cfg.BM25.K1, cfg.BM25.B), DocOrds: map[string][]int{}, MetaKeys: map[string]bool{}}
	if cfg.Dense.Dim > 0 {
		st.HNSW = NewHNSW(cfg.Dense.Dim, cfg.Dense.M, cfg.Dense.EfConstruction, cfg.Dense.EfSearch, 1)
	}
	x := &Index{dir: dir, emb: emb, rr: rr, st: st, an: NewAnalyzer(cfg.BM25.Language)}
	x.Count = tokenCount(emb)
	if err := x.save(st); err != nil {
		return nil, err
	}
	return x, nil
}

// Open loads the current version of the index in dir, or the pinned
// version when version > 0.
func Open(dir string, version int, emb Embedder, rr Reranker) (*Index, error) {
	if version <= 0 {
		b, err := os.ReadFile(filepath.Join(dir, "CURRENT"))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrIndex, err)
		}
		if version, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
			return nil, fmt.Errorf("%w: bad CURRENT file", ErrIndex)
		}
	}
	f, err := os.Open(filepath.Join(dir, fmt.Sprintf("v%06d.gob", version)))
	if err != nil {
		return nil, fmt.Errorf("%w: version %d: %v", ErrIndex, version, err)
	}
	defer f.Close()
	var st state
	if err := gob.NewDecoder(bufio.NewReader(f)).Decode(&st); err != nil {
		return nil, fmt.Errorf("%w: version %d: %v", ErrIndex, version, err)
	}
	if err := st.check(); err != nil {
		return nil, fmt.Errorf("open index %s version %d: %w", dir, version, err)
	}
	if st.HNSW != nil && emb == nil {
		return nil, fmt.Errorf("%w: the index has dense vectors; open it with an embedder", ErrIndex)
	}
	if st.HNSW != nil && emb.Dim() > 0 && emb.Dim() != st.HNSW.Dim {
		return nil, fmt.Errorf("%w: index %s holds %d-d vectors but its embedder gives %d-d ones: use the embedding model it was built with, or rebuild the index",
			ErrIndex, dir, st.HNSW.Dim, emb.Dim())
	}
	// Queries and upserts keep the analyzer the postings were built with.
	an, err := analyzerFor(st.Config.BM25)
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	}
	return &Index{dir: dir, emb: emb, rr: rr, st: &st, an: an, Count: tokenCount(emb)}, nil
}

// tokenCount is the embedder's token counter, or nil (ApproxTokens).
func tokenCount(emb Embedder) func(string) int {
	if tc, ok := emb.(TokenCounter); ok {
		return tc.CountTokens
	}
	return nil
}

// check reports a snapshot whose parts do not fit together (a corrupted
// file, or one written by another build or for another index): searching it
// would panic or return wrong chunks. The error says to rebuild the index.
func (st *state) check() error {
	if st.BM25 == nil {
		return fmt.Errorf("%w: no BM25 index in the snapshot: rebuild the index", ErrIndex)
	}
	n := len(st.Chunks)
	if len(st.BM25.DocLen) != n || len(st.BM25.Deleted) != n {
		return fmt.Errorf("%w: BM25 holds %d chunks, the chunk table %d: rebuild the index", ErrIndex, len(st.BM25.DocLen), n)
	}
	for _, c := range st.Chunks {
		if c.Parent < 0 || c.Parent >= len(st.Parents) {
			return fmt.Errorf("%w: chunk %s has parent %d of %d: rebuild the index", ErrIndex, c.ID, c.Parent, len(st.Parents))
		}
	}
	if st.HNSW == nil {
		if st.Config.Dense.Dim > 0 {
			return fmt.Errorf("%w: the config has %d-d vectors but the snapshot no HNSW graph: rebuild the index", ErrIndex, st.Config.Dense.Dim)
		}
		return nil
	}
	if err := st.HNSW.Validate(); err != nil {
		return err
	}
	if st.HNSW.Len() != n {
		return fmt.Errorf("%w: HNSW holds %d vectors for %d chunks: rebuild the index", ErrIndex, st.HNSW.Len(), n)
	}
	if st.HNSW.Dim != st.Config.Dense.Dim {
		return fmt.Errorf("%w: HNSW holds %d-d vectors, the config says %d: rebuild the index", ErrIndex, st.HNSW.Dim, st.Config.Dense.Dim)
	}
	return nil
}

// save writes st as the next version file and then points CURRENT at it
// (atomic rename), so a crash leaves the previous version current.
func (x *Index) save(st *state) error {
	st.Updated = time.Now().UTC()
	name := filepath.Join(x.dir, fmt.Sprintf("v%06d.gob", st.Version))
	tmp := name + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrIndex, err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := gob.NewEncoder(bw).Encode(st); err != nil {
		f.Close()
		return fmt.Errorf("%w: encode: %v", ErrIndex, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	if err := os.Rename(tmp, name); err != nil {
		return err
	}
	cur := filepath.Join(x.dir, "CURRENT.tmp")
	if err := os.WriteFile(cur, []byte(strconv.Itoa(st.Version)+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.Rename(cur, filepath.Join(x.dir, "CURRENT")); err != nil {
		return err
	}
	// Keep the previous version for rollback and the pinned one; drop
	// older ones.
	if old := st.Version - 2; old >= 0 && old != readPinned(x.dir) {
		os.Remove(filepath.Join(x.dir, fmt.Sprintf("v%06d.gob", old)))
	}
	return nil
}

// charOffsets maps byte offsets of text to character (code point) offsets.
func charOffsets(text string) func(int) int {
	ascii := true
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return func(b int) int { return b }
	}
	idx := make([]int32, len(text)+1) // idx[b]: code points that start before byte b
	n := int32(0)
	for i := 0; i < len(text); i++ {
		idx[i] = n
		if utf8.RuneStart(text[i]) {
			n++
		}
	}
	idx[len(text)] = n
	return func(b int) int { return int(idx[b]) }
}

// readPinned returns the version named by dir/PINNED, or 0.
func readPinned(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "PINNED"))
	if err != nil {
		return 0
	}
	v, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return v
}

// writePinned records the pinned version (0 removes the pin); the snapshot
// of a version that is neither current nor previous is removed on unpin.
func writePinned(dir string, version int) error {
	prev := readPinned(dir)
	if version <= 0 {
		if err := os.Remove(filepath.Join(dir, "PINNED")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	} else {
		tmp := filepath.Join(dir, "PINNED.tmp")
		if err := os.WriteFile(tmp, []byte(strconv.Itoa(version)+"\n"), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(dir, "PINNED")); err != nil {
			return err
		}
	}
	if prev > 0 && prev != version {
		if vs := keptVersions(dir); len(vs) > 0 && prev < vs[len(vs)-1]-1 {
			os.Remove(filepath.Join(dir, fmt.Sprintf("v%06d.gob", prev)))
		}
	}
	return nil
}

// keptVersions lists the version snapshots in dir, oldest first.
func keptVersions(dir string) []int {
	ents, _ := os.ReadDir(dir)
	var out []int
	for _, e := range ents {
		var v int
		if n, _ := fmt.Sscanf(e.Name(), "v%06d.gob", &v); n == 1 && strings.HasSuffix(e.Name(), ".gob") {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// Stats describe the current version.
type Stats struct {
	Version   int       `json:"version"`
	Documents int       `json:"documents"`
	Chunks    int       `json:"chunks"`
	Terms     int       `json:"terms"`
	Dense     bool      `json:"dense"`
	Dim       int       `json:"dim,omitempty"`
	Updated   time.Time `json:"updated_at"`
	Config    Config    `json:"config"`
}

// Stats returns the current version's statistics.
func (x *Index) Stats() Stats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	st := x.st
	return Stats{Version: st.Version, Documents: len(st.DocOrds), Chunks: st.BM25.Live, Terms: len(st.BM25.Postings),
		Dense: st.HNSW != nil, Dim: st.Config.Dense.Dim, Updated: st.Updated, Config: st.Config}
}

// Upsert chunks, analyses and embeds docs (outside the lock: searches keep
// running on the current version), replaces earlier versions of the same
// document ids, and commits a new version. It returns the new version number.
func (x *Index) Upsert(ctx context.Context, docs []Doc) (int, error) {
	return x.Replace(ctx, docs, nil)
}

// Replace deletes the documents with ids del and upserts docs in one new
// version, so no committed version lacks a document that is being replaced
// or holds one that is being removed.
func (x *Index) Replace(ctx context.Context, docs []Doc, del []string) (int, error) {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	type prepared struct {
		doc    Doc
		chunks []Chunk
		terms  [][]string
		vecs   [][]float32
	}
	x.mu.RLock()
	cfg := x.st.Config
	x.mu.RUnlock()
	var preps []prepared
	for _, d := range docs {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		p := prepared{doc: d, chunks: ChunkDocument(d.ID, d.Text, d.Sections, cfg.Chunking, x.Count)}
		texts := make([]string, len(p.chunks))
		for i, c := range p.chunks {
			texts[i] = d.Text[c.Start:c.End]
			p.terms = append(p.terms, x.an.Tokens(sectionPrefix(c.SectionPath)+texts[i]))
		}
		if x.emb != nil && cfg.Dense.Dim > 0 && len(texts) > 0 {
			vecs, err := x.emb.Embed(ctx, texts)
			if err != nil {
				return 0, fmt.Errorf("embed %s: %w", d.ID, err)
			}
			if len(vecs) != len(texts) {
				return 0, fmt.Errorf("embed %s: %d vectors for %d chunks", d.ID, len(vecs), len(texts))
			}
			for _, v := range vecs {
				if len(v) != cfg.Dense.Dim {
					return 0, fmt.Errorf("embed %s: a %d-d vector for a %d-d index", d.ID, len(v), cfg.Dense.Dim)
				}
			}
			p.vecs = vecs
		}
		preps = append(preps, p)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	st := x.st
	first := len(st.Chunks) // ordinal of the first new chunk
	var vecs [][]float32    // the new chunks' vectors, in ordinal order
	for _, id := range del {
		x.deleteLocked(st, id)
	}
	for _, p := range preps {
		x.deleteLocked(st, p.doc.ID)
		if st.DocDigests == nil {
			st.DocDigests = map[string]string{}
		}
		st.DocDigests[p.doc.ID] = docDigest(p.doc)
		tag, _ := p.doc.Metadata["access_tag"].(string)
		if tag == "" {
			tag = DefaultAccessTag
		}
		parents := map[[2]int]int{}
		char := charOffsets(p.doc.Text)
		for i, c := range p.chunks {
			key := [2]int{c.ParentStart, c.ParentEnd}
			pi, ok := parents[key]
			if !ok {
				pi = len(st.Parents)
				st.Parents = append(st.Parents, p.doc.Text[c.ParentStart:c.ParentEnd])
				parents[key] = pi
			}
			ord := st.BM25.Add(p.terms[i])
			if st.HNSW != nil {
				vecs = append(vecs, p.vecs[i])
			}
			st.Chunks = append(st.Chunks, ChunkRecord{ID: c.ID, DocID: p.doc.ID, Source: p.doc.Source, Start: c.Start, End: c.End,
				CharStart: char(c.Start), CharEnd: char(c.End),
				Parent: pi, SectionPath: c.SectionPath, AccessTag: tag, Metadata: p.doc.Metadata, Text: p.doc.Text[c.Start:c.End]})
			st.DocOrds[p.doc.ID] = append(st.DocOrds[p.doc.ID], ord)
		}
		for k := range p.doc.Metadata {
			st.MetaKeys[k] = true
		}
	}
	if st.HNSW != nil && len(vecs) > 0 {
		// One parallel insertion for the whole upsert (the graph's
		// ordinals follow BM25's). A document given twice in one upsert
		// had its first chunks deleted above before they reached the
		// graph: delete them there too.
		if got := st.HNSW.AddBatch(vecs, 0, nil); got != first {
			panic(fmt.Sprintf("rag: HNSW ordinal %d for chunk %d", got, first))
		}
		for ord := first; ord < len(st.Chunks); ord++ {
			if st.BM25.Deleted[ord] {
				st.HNSW.Delete(ord)
			}
		}
	}
	st.Version++
	if err := x.save(st); err != nil {
		st.Version--
		return 0, err
	}
	return st.Version, nil
}

func sectionPrefix(path []string) string {
	if len(path) == 0 {
		return ""
	}
	return strings.Join(path, " ") + "\n"
}

// Delete removes documents and commits a new version.
func (x *Index) Delete(ctx context.Context, ids []string) (int, error) {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, id := range ids {
		x.deleteLocked(x.st, id)
	}
	x.st.Version++
	return x.st.Version, x.save(x.st)
}

func (x *Index) deleteLocked(st *state, docID string) {
	for _, ord := range st.DocOrds[docID] {
		st.BM25.Delete(ord)
		if st.HNSW != nil {
			st.HNSW.Delete(ord)
		}
	}
	delete(st.DocOrds, docID)
	delete(st.DocDigests, docID)
}

// chunkerVersion is part of every document digest: bump it when a change
// to chunking or analysis alters what an upsert stores, so the next dataset
// upsert re-indexes documents it would otherwise skip as unchanged.
const chunkerVersion = 3

// docDigest identifies everything an upsert stores of a document: text,
// source, metadata (JSON, so map order does not matter) and sections, and
// the chunker version.
func docDigest(d Doc) string {
	h := sha256.New()
	fmt.Fprintf(h, "chunker %d\n", chunkerVersion)
	meta, _ := json.Marshal(d.Metadata)
	secs, _ := json.Marshal(d.Sections)
	for _, part := range [][]byte{[]byte(d.Text), []byte(d.Source), meta, secs} {
		fmt.Fprintf(h, "%d:", len(part))
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Changed returns the documents that are new or differ from the version
// the index holds, and how many were left out as unchanged.
func (x *Index) Changed(docs []Doc) (changed []Doc, unchanged int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, d := range docs {
		if have, ok := x.st.DocDigests[d.ID]; ok && have == docDigest(d) {
			unchanged++
			continue
		}
		changed = append(changed, d)
	}
	return changed, unchanged
}
