package dedup

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Document is one input to [Index.AddAll].
type Document struct {
	ID   string
	Text string
	// Dates are the document's revision dates in order of precedence
	// (e.g. modified, created), used by [KeepNewest]: the first decides,
	// the next breaks its ties; zero or missing counts as undated.
	Dates []time.Time
}

// Cluster is a group of duplicates: one kept document and the dropped rest.
type Cluster struct {
	// Keep is the id of the surviving document.
	Keep string `json:"keep"`
	// Drop lists the ids of the other members, in the order they were added.
	Drop []string `json:"drop"`
	// Similarity is the lowest estimated Jaccard similarity between Keep and
	// a dropped member (1 for exact duplicates). Clusters are transitive, so
	// it can fall below the threshold when A≈B and B≈C but A≉C.
	Similarity float64 `json:"similarity"`
	// Exact is true when every member has the same fingerprint.
	Exact bool `json:"exact"`
}

// Report is the outcome of deduplication.
type Report struct {
	// Documents is the number of documents added.
	Documents int `json:"documents"`
	// Dropped is the number of documents in Drop lists.
	Dropped int `json:"dropped"`
	// CandidatePairs is the number of LSH candidate pairs verified.
	CandidatePairs int `json:"candidate_pairs"`
	// Clusters lists every cluster of two or more documents, ordered by the
	// position of their kept document.
	Clusters []Cluster `json:"clusters"`
}

type entry struct {
	id     string
	dates  []time.Time
	length int
	fp     [32]byte
	sig    []uint32 // nil when near dedup is off
}

// Index collects documents and finds their duplicate clusters. Add and
// AddAll may be called concurrently and interleaved with Clusters, which
// reports on everything added so far.
type Index struct {
	cfg    Config
	hasher *Hasher
	rows   int

	mu      sync.Mutex
	entries []entry
	ids     map[string]struct{}
}

// NewIndex returns an empty index for cfg (completed with defaults).
func NewIndex(cfg Config) (*Index, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h, err := NewHasher(cfg)
	if err != nil {
		return nil, err
	}
	return &Index{cfg: cfg, hasher: h, rows: cfg.Permutations / cfg.Bands, ids: make(map[string]struct{})}, nil
}

// Config returns the index's configuration with defaults applied.
func (x *Index) Config() Config { return x.cfg }

func (x *Index) entry(id, text string) entry {
	e := entry{id: id}
	e.fp, e.length = fingerprint(text)
	if x.cfg.NearThreshold > 0 {
		e.sig = x.hasher.Signature(text)
	}
	return e
}

// Add adds one undated document. Its position in the index (used by
// [KeepEarliest]) is the order in which Add calls finish.
func (x *Index) Add(id, text string) error { return x.AddDated(id, text) }

// AddDated adds one document with its revision dates in order of
// precedence (see [Document.Dates]; for [KeepNewest]).
func (x *Index) AddDated(id, text string, dates ...time.Time) error {
	e := x.entry(id, text)
	e.dates = dates
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, dup := x.ids[id]; dup {
		return fmt.Errorf("%w: %q", ErrDuplicateID, id)
	}
	x.ids[id] = struct{}{}
	x.entries = append(x.entries, e)
	return nil
}

// AddAll adds docs in their order, computing signatures on all cores. It
// stops early with ctx's error if ctx is cancelled; nothing of docs is
// added then.
func (x *Index) AddAll(ctx context.Context, docs []Document) error {
	out := make([]entry, len(docs))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(docs)))
	var wg sync.WaitGroup
	const chunk = 64
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for start := range next {
				for i := start; i < min(start+chunk, len(docs)); i++ {
					out[i] = x.entry(docs[i].ID, docs[i].Text)
					out[i].dates = docs[i].Dates
				}
			}
		})
	}
	var err error
feed:
	for start := 0; start < len(docs); start += chunk {
		select {
		case next <- start:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("dedup: add documents: %w", err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	seen := make(map[string]struct{}, len(docs))
	for _, d := range docs {
		_, dup := x.ids[d.ID]
		_, dupIn := seen[d.ID]
		if dup || dupIn {
			return fmt.Errorf("%w: %q", ErrDuplicateID, d.ID)
		}
		seen[d.ID] = struct{}{}
	}
	for _, d := range docs {
		x.ids[d.ID] = struct{}{}
	}
	x.entries = append(x.entries, out...)
	return nil
}

// Len returns the number of documents added.
func (x *Index) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.entries)
}

// newer reports whether revision dates a are later than b: the first date
// that differs decides; a missing date is the zero time.
func newer(a, b []time.Time) bool {
	for i := range max(len(a), len(b)) {
		var x, y time.Time
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if !x.Equal(y) {
			return x.After(y)
		}
	}
	return false
}

// maxAllPairs bounds the bucket size for which every pair is verified;
// larger buckets (template documents, boilerplate) verify each member
// against the first maxAllPairs members only, keeping the work linear.
const maxAllPairs = 64

// Clusters computes the duplicate clusters of every document added so far.
func (x *Index) Clusters() Report {
	x.mu.Lock()
	entries := x.entries[:len(x.entries):len(x.entries)]
	x.mu.Unlock()

	n := len(entries)
	uf := newUnionFind(n)
	rep := Report{Documents: n}

	// Exact duplicates join the cluster of their first occurrence; only
	// first occurrences take part in the near-duplicate pass.
	first := make([]bool, n)
	if x.cfg.Exact {
		byFP := make(map[[32]byte]int32, n)
		for i, e := range entries {
			if j, ok := byFP[e.fp]; ok {
				uf.union(int32(i), j)
				continue
			}
			byFP[e.fp] = int32(i)
			first[i] = true
		}
	} else {
		for i := range first {
			first[i] = true
		}
	}

	if x.cfg.NearThreshold > 0 {
		rep.CandidatePairs = x.near(entries, first, uf)
	}

	groups := make(map[int32][]int32)
	for i := range n {
		r := uf.find(int32(i))
		if r != int32(i) || uf.size[r] > 1 {
			groups[r] = append(groups[r], int32(i))
		}
	}
	for _, members := range groups {
		if len(members) < 2 {
			continue
		}
		keep := members[0] // members are in index order
		for _, m := range members[1:] {
			switch x.cfg.Keep {
			case KeepLongest:
				if entries[m].length > entries[keep].length {
					keep = m
				}
			case KeepNewest:
				if newer(entries[m].dates, entries[keep].dates) {
					keep = m
				}
			}
		}
		c := Cluster{Keep: entries[keep].id, Similarity: 1, Exact: true}
		for _, m := range members {
			if m == keep {
				continue
			}
			c.Drop = append(c.Drop, entries[m].id)
			if entries[m].fp != entries[keep].fp {
				c.Exact = false
				s := Estimate(entries[m].sig, entries[keep].sig)
				c.Similarity = math.Min(c.Similarity, s)
			}
		}
		rep.Dropped += len(c.Drop)
		rep.Clusters = append(rep.Clusters, c)
	}
	pos := make(map[string]int, len(rep.Clusters))
	for i, e := range entries {
		pos[e.id] = i
	}
	slices.SortFunc(rep.Clusters, func(a, b Cluster) int { return pos[a.Keep] - pos[b.Keep] })
	return rep
}

// near runs LSH banding over the signatures of the first occurrences,
// verifies candidate pairs and unions those at or above the threshold. It
// returns the number of pairs verified.
func (x *Index) near(entries []entry, first []bool, uf *unionFind) int {
	type keyed struct {
		key uint64
		doc int32
	}
	bands := x.cfg.Bands
	rows := x.rows
	perBand := make([][]keyed, bands)
	var wg sync.WaitGroup
	for b := range bands {
		wg.Go(func() {
			ks := make([]keyed, 0, len(entries))
			for i, e := range entries {
				if !first[i] || e.sig == nil || e.sig[0] == math.MaxUint32 {
					continue
				}
				h := uint64(fnvOffset) ^ uint64(b)
				for _, v := range e.sig[b*rows : (b+1)*rows] {
					h = (h ^ uint64(v)) * fnvPrime
				}
				ks = append(ks, keyed{mix64(h), int32(i)})
			}
			slices.SortFunc(ks, func(p, q keyed) int {
				if p.key != q.key {
					if p.key < q.key {
						return -1
					}
					return 1
				}
				return int(p.doc - q.doc)
			})
			perBand[b] = ks
		})
	}
	wg.Wait()

	type pair struct{ a, b int32 }
	checked := make(map[pair]struct{})
	threshold := x.cfg.NearThreshold
	verify := func(i, j int32) {
		p := pair{i, j}
		if _, ok := checked[p]; ok {
			return
		}
		checked[p] = struct{}{}
		if uf.find(i) == uf.find(j) {
			return
		}
		if Estimate(entries[i].sig, entries[j].sig) >= threshold {
			uf.union(i, j)
		}
	}
	for _, ks := range perBand {
		for lo := 0; lo < len(ks); {
			hi := lo + 1
			for hi < len(ks) && ks[hi].key == ks[lo].key {
				hi++
			}
			bucket := ks[lo:hi]
			for a := range min(len(bucket), maxAllPairs) {
				for b := a + 1; b < len(bucket); b++ {
					verify(bucket[a].doc, bucket[b].doc)
				}
			}
			lo = hi
		}
	}
	return len(checked)
}

type unionFind struct {
	parent []int32
	size   []int32
}

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int32, n), size: make([]int32, n)}
	for i := range u.parent {
		u.parent[i] = int32(i)
		u.size[i] = 1
	}
	return u
}

func (u *unionFind) find(i int32) int32 {
	for u.parent[i] != i {
		u.parent[i] = u.parent[u.parent[i]]
		i = u.parent[i]
	}
	return i
}

// union joins the sets of a and b; the smaller index becomes the root so
// that roots are stable and deterministic.
func (u *unionFind) union(a, b int32) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if rb < ra {
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
	u.size[ra] += u.size[rb]
}
