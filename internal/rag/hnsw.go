package rag

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/whet-dev/whet/internal/tensor"
)

// HNSW is a hierarchical navigable small-world graph over L2-normalised
// vectors, searched by cosine similarity (Malkov & Yashunin, with the
// neighbour-selection heuristic). Deleted nodes keep routing searches but are
// never returned. Add is one writer at a time; AddBatch inserts on several
// cores with a lock per node (as hnswlib does). Searches may run
// concurrently with each other (Index holds the lock that orders them
// against writes).
//
// Storage (format 2): vectors in one slab (node i at i·Dim), layer-0 links
// in one slab of fixed-width rows (node i at i·(1+2M): count, then up to 2M
// ids), upper-layer links per node in Upper (nil for the ~1−1/M of nodes
// that live on layer 0 only). Snapshots of format 0 (Links [][][]int32)
// still load: they are converted on first use.
type HNSW struct {
	Dim            int
	M              int // links per node on upper layers; 2·M on layer 0
	EfConstruction int
	EfSearch       int
	// EfUpper is the beam width on layer 1 at search time (0 or 1: greedy
	// descent, as in the paper). Its results seed the layer-0 search: on
	// data of many well-separated clusters a greedy descent often lands in
	// the wrong cluster, and a wider layer-1 beam finds the right one for
	// far less than a wider layer-0 beam costs.
	EfUpper int
	// Int8 makes searches walk the graph on int8 copies of the vectors
	// (per-vector absmax scale, a quarter of the memory traffic per
	// distance) and re-score the final candidates in float32. The copies
	// are derived, not persisted. Insertion always uses float32.
	Int8 bool

	Vecs     []float32 // [n×Dim], normalised
	Deleted  []bool
	Entry    int32
	MaxLevel int
	Seed     uint64

	// Format is the graph layout: 0 = legacy Links, 2 = L0/Upper slabs.
	Format int
	L0     []int32   // [n×(1+2M)]: count, then neighbours on layer 0
	Upper  [][]int32 // node → [level×(1+M)] for layers 1..level; nil on layer 0 only
	// Links is the format-0 layout (node → layer → neighbours), read from
	// old snapshots only and converted on first use.
	Links [][][]int32

	q8      []int8    // [n×Dim] when Int8
	q8scale []float32 // [n]
	q8mu    sync.Mutex

	rng     *rand.Rand
	scratch sync.Pool
	once    sync.Once
	locks   []sync.Mutex // per node, during AddBatch
	gmu     sync.Mutex   // Entry/MaxLevel during AddBatch
}

// hnswFormat is the layout written by this code.
const hnswFormat = 2

// Defaults chosen by measurement (hnsw_test.go, docs/BENCHMARKS.md): on
// random 384-d vectors M=24 with efSearch=256 gives recall@10 ≈ 0.99
// against exact search; on clustered vectors at 100k, efSearch ≈ 384 is
// needed for 0.95.
const (
	DefaultM              = 24
	DefaultEfConstruction = 200
	DefaultEfSearch       = 256
)

// NewHNSW returns an empty graph; zero parameters take the defaults.
func NewHNSW(dim, m, efConstruction, efSearch int, seed uint64) *HNSW {
	if m <= 0 {
		m = DefaultM
	}
	if efConstruction <= 0 {
		efConstruction = DefaultEfConstruction
	}
	if efSearch <= 0 {
		efSearch = DefaultEfSearch
	}
	return &HNSW{Dim: dim, M: m, EfConstruction: efConstruction, EfSearch: efSearch, Entry: -1, Seed: seed, Format: hnswFormat}
}

// Validate reports a graph this build cannot use: a snapshot written by a
// newer layout, one whose slabs do not match its node count, or one whose
// entry point, levels or links point outside the graph (a corrupted or
// foreign file). The index must then be rebuilt. A graph that fails it
// panics on first use; Open checks it first. It reads every link once
// (about 50 M int32 at 1M nodes with M = 24).
func (h *HNSW) Validate() error {
	n := len(h.Deleted)
	switch {
	case h.Format != 0 && h.Format != hnswFormat:
		return fmt.Errorf("%w: HNSW layout %d is not supported by this build (%d): rebuild the index", ErrIndex, h.Format, hnswFormat)
	case h.Dim <= 0 || h.M <= 0:
		return fmt.Errorf("%w: HNSW has dimension %d and M %d: rebuild the index", ErrIndex, h.Dim, h.M)
	case h.Format == 0 && len(h.Links) != n:
		return fmt.Errorf("%w: HNSW has %d link lists for %d nodes: rebuild the index", ErrIndex, len(h.Links), n)
	case h.Format == hnswFormat && (len(h.L0) != n*h.stride0() || len(h.Upper) != n):
		return fmt.Errorf("%w: HNSW slabs do not match its %d nodes: rebuild the index", ErrIndex, n)
	case len(h.Vecs) != n*h.Dim:
		return fmt.Errorf("%w: HNSW holds %d floats for %d × %d: rebuild the index", ErrIndex, len(h.Vecs), n, h.Dim)
	case n == 0 && h.Entry != -1, n > 0 && (h.Entry < 0 || int(h.Entry) >= n), h.MaxLevel < 0:
		return fmt.Errorf("%w: HNSW entry point %d (top layer %d) is not a node of %d: rebuild the index", ErrIndex, h.Entry, h.MaxLevel, n)
	}
	bad := func(i int, l int, why string) error {
		return fmt.Errorf("%w: HNSW node %d layer %d: %s: rebuild the index", ErrIndex, i, l, why)
	}
	if h.Format == 0 {
		for i, layers := range h.Links {
			for l, nbs := range layers {
				for _, nb := range nbs {
					if nb < 0 || int(nb) >= n || len(h.Links[nb]) <= l {
						return bad(i, l, fmt.Sprintf("link to %d", nb))
					}
				}
			}
		}
		if n > 0 && len(h.Links[h.Entry])-1 != h.MaxLevel {
			return bad(int(h.Entry), h.MaxLevel, "the entry point is not on the top layer")
		}
		return nil
	}
	for i := range n {
		up := h.Upper[i]
		if len(up)%h.strideU() != 0 {
			return bad(i, 1, fmt.Sprintf("upper links of length %d", len(up)))
		}
		for l := 0; l <= len(up)/h.strideU(); l++ {
			row := h.row(int32(i), l)
			if row[0] < 0 || int(row[0]) > len(row)-1 {
				return bad(i, l, fmt.Sprintf("%d links for %d slots", row[0], len(row)-1))
			}
			for _, nb := range row[1 : 1+row[0]] {
				if nb < 0 || int(nb) >= n || (l > 0 && h.level(nb) < l) {
					return bad(i, l, fmt.Sprintf("link to %d", nb))
				}
			}
		}
	}
	if n > 0 && h.level(h.Entry) != h.MaxLevel {
		return bad(int(h.Entry), h.MaxLevel, "the entry point is not on the top layer")
	}
	return nil
}

// ready converts a format-0 snapshot to the slab layout, once.
func (h *HNSW) ready() {
	h.once.Do(func() {
		if h.Format == hnswFormat && len(h.Deleted) == 0 {
			return
		}
		if err := h.Validate(); err != nil {
			panic(err.Error())
		}
		if h.Format == hnswFormat {
			return
		}
		n := len(h.Links)
		h.Format = hnswFormat
		h.L0 = make([]int32, n*h.stride0())
		h.Upper = make([][]int32, n)
		for i, layers := range h.Links {
			for l, nbs := range layers {
				if l > 0 && h.Upper[i] == nil {
					h.Upper[i] = make([]int32, (len(layers)-1)*h.strideU())
				}
				row := h.row(int32(i), l)
				if len(nbs) > len(row)-1 {
					nbs = nbs[:len(row)-1]
				}
				row[0] = int32(copy(row[1:], nbs))
			}
		}
		h.Links = nil
	})
}

// Len is the number of nodes, deleted ones included.
func (h *HNSW) Len() int { return len(h.Deleted) }

func (h *HNSW) stride0() int { return 1 + 2*h.M }
func (h *HNSW) strideU() int { return 1 + h.M }

// row is node i's link row on layer l: row[0] is the count, row[1:] the
// capacity.
func (h *HNSW) row(i int32, l int) []int32 {
	if l == 0 {
		s := h.stride0()
		return h.L0[int(i)*s : int(i+1)*s]
	}
	s := h.strideU()
	return h.Upper[i][(l-1)*s : l*s]
}

func (h *HNSW) level(i int32) int { return len(h.Upper[i]) / h.strideU() }

func (h *HNSW) vec(i int32) []float32 { return h.Vecs[int(i)*h.Dim : int(i+1)*h.Dim] }

// Normalize scales v to unit length in place (a zero vector stays zero).
func Normalize(v []float32) {
	n := math.Sqrt(float64(tensor.Dot(v, v)))
	if n == 0 {
		return
	}
	tensor.Scale(v, float32(1/n))
}

func (h *HNSW) dist(q []float32, i int32) float32 { return 1 - tensor.Dot(q, h.vec(i)) }

// dist8 is dist on the int8 copy.
func (h *HNSW) dist8(q []float32, i int32) float32 {
	return 1 - h.q8scale[i]*tensor.DotQ8(h.q8[int(i)*h.Dim:int(i+1)*h.Dim], q)
}

// quantizeRow appends v's per-vector-absmax int8 copy to q and returns it
// with its scale.
func quantizeRow(q []int8, v []float32) ([]int8, float32) {
	var amax float32
	for _, x := range v {
		amax = max(amax, x, -x)
	}
	s := amax / 127
	inv := float32(0)
	if s > 0 {
		inv = 1 / s
	}
	for _, x := range v {
		q = append(q, int8(max(-127, min(127, math.Round(float64(x*inv))))))
	}
	return q, s
}

// quantize brings the int8 copies up to date with Vecs (q8mu orders
// searches that race to fill them first; writes are ordered against
// searches by the index's lock).
func (h *HNSW) quantize() {
	h.q8mu.Lock()
	defer h.q8mu.Unlock()
	n := len(h.Deleted)
	for i := len(h.q8scale); i < n; i++ {
		var s float32
		h.q8, s = quantizeRow(h.q8, h.vec(int32(i)))
		h.q8scale = append(h.q8scale, s)
	}
}

type cand struct {
	id int32
	d  float32
}

// candHeap is a binary heap of candidates: a min-heap by distance when max
// is false, a max-heap when true. Typed, so pushes do not allocate.
type candHeap struct {
	a   []cand
	max bool
}

func (q *candHeap) less(i, j int) bool {
	if q.max {
		return q.a[i].d > q.a[j].d
	}
	return q.a[i].d < q.a[j].d
}

func (q *candHeap) push(c cand) {
	q.a = append(q.a, c)
	i := len(q.a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.a[i], q.a[p] = q.a[p], q.a[i]
		i = p
	}
}

func (q *candHeap) pop() cand {
	top := q.a[0]
	n := len(q.a) - 1
	q.a[0] = q.a[n]
	q.a = q.a[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			break
		}
		q.a[i], q.a[m] = q.a[m], q.a[i]
		i = m
	}
	return top
}

// scratch is one search's reusable state.
type scratch struct {
	mark  []uint32 // generation-stamped visited set
	gen   uint32
	cands candHeap
	res   candHeap
	nbuf  []int32
}

func (h *HNSW) getScratch() *scratch {
	s, _ := h.scratch.Get().(*scratch)
	if s == nil {
		s = &scratch{res: candHeap{max: true}}
	}
	if n := len(h.Deleted); len(s.mark) < n {
		s.mark = make([]uint32, n+n/4+1024)
		s.gen = 0
	}
	s.gen++
	if s.gen == 0 {
		clear(s.mark)
		s.gen = 1
	}
	s.cands.a = s.cands.a[:0]
	s.res.a = s.res.a[:0]
	return s
}

// neighbours returns node i's links on layer l: when locked (concurrent
// insertion) a copy taken under the node's lock into *buf, else the row
// itself (never to be written to).
func (h *HNSW) neighbours(i int32, l int, locked bool, buf *[]int32) []int32 {
	if !locked {
		r := h.row(i, l)
		return r[1 : 1+r[0]]
	}
	h.locks[i].Lock()
	r := h.row(i, l)
	*buf = append((*buf)[:0], r[1:1+r[0]]...)
	h.locks[i].Unlock()
	return *buf
}

// greedy descends one upper layer from ep to its local nearest neighbour
// (the ef = 1 beam search).
func (h *HNSW) greedy(q []float32, ep cand, l int, locked bool, buf *[]int32) cand {
	for changed := true; changed; {
		changed = false
		for _, nb := range h.neighbours(ep.id, l, locked, buf) {
			if d := h.dist(q, nb); d < ep.d {
				ep, changed = cand{nb, d}, true
			}
		}
	}
	return ep
}

// greedyD is greedy on an unlocked graph with the given distance.
func (h *HNSW) greedyD(q []float32, ep cand, l int, dist func([]float32, int32) float32) cand {
	for changed := true; changed; {
		changed = false
		for _, nb := range h.neighbours(ep.id, l, false, nil) {
			if d := dist(q, nb); d < ep.d {
				ep, changed = cand{nb, d}, true
			}
		}
	}
	return ep
}

// searchLayer is the beam search of one layer. accept (may be nil) decides
// which nodes may enter the results; rejected nodes are still expanded, so a
// filter never cuts the graph. The result is sorted nearest first and
// appended to out.
func (h *HNSW) searchLayer(q []float32, eps []cand, ef, level int, accept func(int32) bool, locked bool, out []cand) []cand {
	return h.searchLayerD(q, eps, ef, level, accept, locked, out, h.dist)
}

func (h *HNSW) searchLayerD(q []float32, eps []cand, ef, level int, accept func(int32) bool, locked bool, out []cand, dist func([]float32, int32) float32) []cand {
	s := h.getScratch()
	defer h.scratch.Put(s)
	cands, res := &s.cands, &s.res
	for _, e := range eps {
		s.mark[e.id] = s.gen
		cands.push(e)
		if accept == nil || accept(e.id) {
			res.push(e)
		}
	}
	for len(cands.a) > 0 {
		c := cands.pop()
		if len(res.a) >= ef && c.d > res.a[0].d {
			break
		}
		for _, nb := range h.neighbours(c.id, level, locked, &s.nbuf) {
			if s.mark[nb] == s.gen {
				continue
			}
			s.mark[nb] = s.gen
			d := dist(q, nb)
			if len(res.a) < ef || d < res.a[0].d {
				cands.push(cand{nb, d})
				if accept == nil || accept(nb) {
					res.push(cand{nb, d})
					if len(res.a) > ef {
						res.pop()
					}
				}
			}
		}
	}
	start := len(out)
	out = append(out, res.a...)
	sorted := out[start:]
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].d < sorted[j].d })
	return out
}

// selectNeighbors is the heuristic of the HNSW paper (Algorithm 4) with kept
// pruned connections: prefer candidates closer to the base than to any
// already selected neighbour, then fill up with the closest rest. cs must be
// sorted nearest first; the result is appended to out.
func (h *HNSW) selectNeighbors(cs []cand, m int, out []int32) []int32 {
	if len(cs) <= m {
		for _, c := range cs {
			out = append(out, c.id)
		}
		return out
	}
	start := len(out)
	var prunedBuf [64]int32
	pruned := prunedBuf[:0]
	for _, c := range cs {
		if len(out)-start >= m {
			break
		}
		good := true
		cv := h.vec(c.id)
		for _, s := range out[start:] {
			if 1-tensor.Dot(cv, h.vec(s)) < c.d {
				good = false
				break
			}
		}
		if good {
			out = append(out, c.id)
		} else if len(pruned) < m {
			pruned = append(pruned, c.id)
		}
	}
	for _, p := range pruned {
		if len(out)-start >= m {
			break
		}
		out = append(out, p)
	}
	return out
}

func (h *HNSW) randomLevel() int {
	if h.rng == nil {
		h.rng = rand.New(rand.NewPCG(h.Seed, uint64(len(h.Deleted))+1))
	}
	ml := 1 / math.Log(float64(h.M))
	return min(int(math.Floor(-math.Log(1-h.rng.Float64())*ml)), 30)
}

// reserve appends vs (copied and normalised) as unlinked nodes with random
// levels and returns the first new ordinal.
func (h *HNSW) reserve(vs [][]float32) int32 {
	h.ready()
	first := int32(len(h.Deleted))
	n := int(first) + len(vs)
	h.Vecs = grow(h.Vecs, n*h.Dim)
	h.L0 = grow(h.L0, n*h.stride0())
	for _, v := range vs {
		start := len(h.Vecs)
		h.Vecs = append(h.Vecs, v[:h.Dim]...)
		Normalize(h.Vecs[start:])
		h.L0 = append(h.L0, make([]int32, h.stride0())...)
		var up []int32
		if lvl := h.randomLevel(); lvl > 0 {
			up = make([]int32, lvl*h.strideU())
		}
		h.Upper = append(h.Upper, up)
		h.Deleted = append(h.Deleted, false)
	}
	return first
}

// grow returns s with capacity for at least n elements.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s
	}
	out := make([]T, len(s), max(n, 2*cap(s)))
	copy(out, s)
	return out
}

// Add inserts a vector (copied and normalised) and returns its ordinal.
func (h *HNSW) Add(v []float32) int {
	id := h.reserve([][]float32{v})
	h.insert(id, false)
	return int(id)
}

// AddBatch inserts vs (copied and normalised) using up to workers
// goroutines (≤ 0: GOMAXPROCS) and returns the ordinal of the first; the
// others follow in order. progress, if set, is called with the number of
// vectors inserted so far, from the inserting goroutines. The graph is
// equivalent in quality to serial insertion but not bit-identical from run
// to run.
func (h *HNSW) AddBatch(vs [][]float32, workers int, progress func(done int)) int {
	first := h.reserve(vs)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	n := len(vs)
	next := 0
	// The first few nodes go in serially, so the parallel inserts start
	// from a connected graph.
	for ; next < n && (h.Entry < 0 || next < min(n, 2*workers)); next++ {
		h.insert(first+int32(next), false)
	}
	if next == n || workers == 1 {
		for ; next < n; next++ {
			h.insert(first+int32(next), false)
			if progress != nil {
				progress(next + 1)
			}
		}
		return int(first)
	}
	if len(h.locks) < len(h.Deleted) {
		h.locks = make([]sync.Mutex, len(h.Deleted))
	}
	var cursor atomic.Int64
	cursor.Store(int64(next))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(cursor.Add(1) - 1)
				if i >= n {
					return
				}
				h.insert(first+int32(i), true)
				if progress != nil {
					progress(i + 1)
				}
			}
		})
	}
	wg.Wait()
	h.locks = nil
	return int(first)
}

// insert links the reserved node id into the graph. locked: other inserts
// run concurrently (AddBatch).
func (h *HNSW) insert(id int32, locked bool) {
	q := h.vec(id)
	lvl := h.level(id)
	if locked {
		h.gmu.Lock()
	}
	entry, maxLevel := h.Entry, h.MaxLevel
	if locked && lvl <= maxLevel {
		h.gmu.Unlock()
	} else if locked {
		// A new top node: hold the global lock for the whole insert, as
		// hnswlib does (rare: about one node in M^maxLevel).
		defer h.gmu.Unlock()
	}
	if entry < 0 {
		h.Entry, h.MaxLevel = id, lvl
		return
	}
	var gbuf, buf []int32
	ep := cand{entry, h.dist(q, entry)}
	for l := maxLevel; l > lvl; l-- {
		ep = h.greedy(q, ep, l, locked, &gbuf)
	}
	// Search every layer first, then fill id's own rows, then link its
	// neighbours to it: id becomes reachable only once all its rows are
	// filled. Linking layer by layer let a concurrent search descend
	// through id on an upper layer into its still empty lower rows, a dead
	// end that left the nodes inserted from there with a handful of links.
	eps := []cand{ep}
	var w, cs []cand
	top := min(lvl, maxLevel)
	sels := make([][]int32, top+1)
	for l := top; l >= 0; l-- {
		w = h.searchLayer(q, eps, h.EfConstruction, l, nil, locked, w[:0])
		sels[l] = h.selectNeighbors(w, h.M, nil)
		eps = append(eps[:0], w...)
	}
	if locked {
		h.locks[id].Lock()
	}
	for l, sel := range sels {
		row := h.row(id, l)
		row[0] = int32(copy(row[1:], sel))
	}
	if locked {
		h.locks[id].Unlock()
	}
	for l := top; l >= 0; l-- {
		for _, nb := range sels[l] {
			if locked {
				h.locks[nb].Lock()
			}
			row := h.row(nb, l)
			cnt := int(row[0])
			if locked && slices.Contains(row[1:1+cnt], id) {
				// Linked already by a concurrent insert.
			} else if cnt < len(row)-1 {
				row[1+cnt] = id
				row[0]++
			} else {
				// Full: re-select among the old links and the new one.
				base := h.vec(nb)
				cs = cs[:0]
				for _, x := range row[1 : 1+cnt] {
					cs = append(cs, cand{x, 1 - tensor.Dot(base, h.vec(x))})
				}
				cs = append(cs, cand{id, 1 - tensor.Dot(base, q)})
				sort.Slice(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
				buf = h.selectNeighbors(cs, len(row)-1, buf[:0])
				row[0] = int32(copy(row[1:], buf))
			}
			if locked {
				h.locks[nb].Unlock()
			}
		}
	}
	if lvl > maxLevel {
		h.Entry, h.MaxLevel = id, lvl
	}
}

// Delete hides a node from results.
func (h *HNSW) Delete(ord int) {
	if ord >= 0 && ord < len(h.Deleted) {
		h.Deleted[ord] = true
	}
}

// Search returns the k nearest live nodes to q accepted by filter (nil: all)
// with similarity scores (cosine), best first. ef ≤ 0 uses EfSearch. When the
// filter accepts few nodes (estimated selectivity under 2%), it scans those
// exactly.
func (h *HNSW) Search(q []float32, k, ef int, filter func(ord int) bool) []Scored {
	h.ready()
	if h.Entry < 0 || k <= 0 {
		return nil
	}
	qn := append([]float32(nil), q[:h.Dim]...)
	Normalize(qn)
	accept := func(i int32) bool { return !h.Deleted[i] && (filter == nil || filter(int(i))) }
	if filter != nil {
		// Estimate the filter's selectivity on at most ~2048 evenly spaced
		// nodes (exact on small graphs): counting every node made each
		// filtered search, e.g. every search by a role with access tags,
		// O(n).
		n := len(h.Deleted)
		step := max(1, n/2048)
		sampled, hit := 0, 0
		for i := 0; i < n; i += step {
			sampled++
			if accept(int32(i)) {
				hit++
			}
		}
		if hit*n/sampled < n/50+k {
			return h.exact(qn, k, accept)
		}
	}
	if ef <= 0 {
		ef = h.EfSearch
	}
	ef = max(ef, k)
	dist := h.dist
	if h.Int8 {
		h.q8mu.Lock()
		stale := len(h.q8scale) != len(h.Deleted)
		h.q8mu.Unlock()
		if stale {
			h.quantize()
		}
		dist = h.dist8
	}
	ep := cand{h.Entry, dist(qn, h.Entry)}
	low := 0
	if h.EfUpper > 1 {
		low = 1
	}
	for l := h.MaxLevel; l > low; l-- {
		ep = h.greedyD(qn, ep, l, dist)
	}
	eps := []cand{ep}
	if low == 1 && h.MaxLevel >= 1 {
		eps = h.searchLayerD(qn, eps, h.EfUpper, 1, nil, false, nil, dist)
	}
	res := h.searchLayerD(qn, eps, ef, 0, accept, false, nil, dist)
	if h.Int8 {
		// Re-score the beam in float32: int8 only steers the walk.
		for i := range res {
			res[i].d = h.dist(qn, res[i].id)
		}
		sort.Slice(res, func(i, j int) bool { return res[i].d < res[j].d })
	}
	if len(res) > k {
		res = res[:k]
	}
	out := make([]Scored, len(res))
	for i, c := range res {
		out[i] = Scored{Ord: int(c.id), Score: float64(1 - c.d)}
	}
	return out
}

// Exact is a brute-force scan, the reference that recall is measured against.
func (h *HNSW) Exact(q []float32, k int, filter func(ord int) bool) []Scored {
	qn := append([]float32(nil), q[:h.Dim]...)
	Normalize(qn)
	return h.exact(qn, k, func(i int32) bool { return !h.Deleted[i] && (filter == nil || filter(int(i))) })
}

func (h *HNSW) exact(qn []float32, k int, accept func(int32) bool) []Scored {
	mh := &minHeap{}
	for i := range h.Deleted {
		if accept(int32(i)) {
			pushTop(mh, Scored{Ord: i, Score: float64(tensor.Dot(qn, h.vec(int32(i))))}, k)
		}
	}
	return drain(mh)
}
