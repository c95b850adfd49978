package dedup

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestFingerprint(t *testing.T) {
	base := Fingerprint("Refund policy: 30 days.")
	if !strings.HasPrefix(base, FingerprintPrefix) || len(base) != len(FingerprintPrefix)+64 {
		t.Fatalf("malformed fingerprint %q", base)
	}
	tests := []struct {
		name  string
		text  string
		equal bool
	}{
		{"identical", "Refund policy: 30 days.", true},
		{"whitespace and newlines", "  Refund\tpolicy:\r\n30   days. ", true},
		{"nfkc fullwidth digits", "Refund policy: ３０ days.", true},
		{"zero width space", "Refund\u200b policy: 30 days.", true},
		{"case differs", "REFUND POLICY: 30 DAYS.", false},
		{"content differs", "Refund policy: 31 days.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fingerprint(tt.text) == base; got != tt.equal {
				t.Fatalf("Fingerprint(%q) equal = %v, want %v", tt.text, got, tt.equal)
			}
		})
	}
}

// tokens returns n distinct words starting at tok<from>.
func tokens(from, n int) string {
	var b strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "tok%d ", i)
	}
	return b.String()
}

func TestJaccardEstimate(t *testing.T) {
	h, err := NewHasher(Config{ShingleSize: 1, Permutations: 256})
	if err != nil {
		t.Fatal(err)
	}
	// With 1-word shingles over distinct tokens, A = [0,100) and
	// B = [s, s+100) share 100-s of 100+s tokens.
	for _, shift := range []int{0, 5, 11, 20, 33, 50, 67, 100} {
		t.Run(fmt.Sprintf("shift%d", shift), func(t *testing.T) {
			a, b := tokens(0, 100), tokens(shift, 100)
			want := float64(100-shift) / float64(100+shift)
			if want < 0 {
				want = 0
			}
			exact := Jaccard(h.Shingles(a), h.Shingles(b))
			if math.Abs(exact-want) > 1e-12 {
				t.Fatalf("Jaccard = %v, want %v", exact, want)
			}
			est := Estimate(h.Signature(a), h.Signature(b))
			// Four standard deviations of the MinHash estimator.
			tol := 4*math.Sqrt(want*(1-want)/256) + 1e-9
			if math.Abs(est-want) > tol {
				t.Fatalf("Estimate = %v, want %v ± %v", est, want, tol)
			}
		})
	}
}

func TestShingles(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		a, b string
		same bool
	}{
		{"word case and punctuation", Config{ShingleSize: 2}, "Hello, World! Again", "hello world again", true},
		{"word order matters", Config{ShingleSize: 2}, "a b c", "c b a", false},
		{"char whitespace collapsed", Config{ShingleUnit: UnitChar, ShingleSize: 3}, "ab  cd\n", "AB cd", true},
		{"unicode words", Config{ShingleSize: 1}, "Größe ÜBER", "größe über", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHasher(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			j := Jaccard(h.Shingles(tt.a), h.Shingles(tt.b))
			if (j == 1) != tt.same {
				t.Fatalf("Jaccard = %v, same want %v", j, tt.same)
			}
		})
	}
	h, _ := NewHasher(Config{})
	if got := h.Shingles(""); len(got) != 0 {
		t.Fatalf("empty text has %d shingles", len(got))
	}
	if got := h.Shingles("two words"); len(got) != 1 {
		t.Fatalf("short text has %d shingles, want 1", len(got))
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero", Config{}, true},
		{"default", DefaultConfig(), true},
		{"threshold above 1", Config{NearThreshold: 1.5}, false},
		{"bad unit", Config{ShingleUnit: "line"}, false},
		{"bands exceed permutations", Config{Permutations: 8, Bands: 9}, false},
		{"bad keep", Config{Keep: "latest"}, false},
		{"newest", Config{Keep: KeepNewest}, true},
		{"negative size", Config{ShingleSize: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, ok want %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("error %v is not ErrInvalidConfig", err)
			}
		})
	}
}

// corpus builds deterministic test documents from a Zipf-distributed
// vocabulary of pseudo-words.
type corpus struct {
	rng   *rand.Rand
	zipf  *rand.Zipf
	vocab []string
}

func newCorpus(seed uint64) *corpus {
	rng := rand.New(rand.NewPCG(seed, seed^0xdead))
	c := &corpus{rng: rng, zipf: rand.NewZipf(rng, 1.07, 2, 19_999)}
	syl := []string{"ka", "lo", "mi", "ne", "tu", "ra", "shi", "po", "ve", "da", "gri", "son", "el", "ab", "qu", "ix"}
	for i := 0; i < 20_000; i++ {
		var b strings.Builder
		for n := 1 + i%3 + rng.IntN(2); n >= 0; n-- {
			b.WriteString(syl[rng.IntN(len(syl))])
		}
		fmt.Fprintf(&b, "%d", i%7)
		c.vocab = append(c.vocab, b.String())
	}
	return c
}

func (c *corpus) words(n int) []string {
	w := make([]string, n)
	for i := range w {
		w[i] = c.vocab[c.zipf.Uint64()]
	}
	return w
}

// mutate returns a copy of words with m random substitutions.
func (c *corpus) mutate(words []string, m int) []string {
	out := append([]string(nil), words...)
	for range m {
		out[c.rng.IntN(len(out))] = c.vocab[c.rng.IntN(len(c.vocab))]
	}
	return out
}

func TestIndexClusters(t *testing.T) {
	c := newCorpus(1)
	a := c.words(300)
	b := c.words(300)
	docs := []Document{
		{ID: "a", Text: strings.Join(a, " "), Dates: []time.Time{{}, time.Date(2024, 5, 20, 0, 0, 0, 0, time.UTC)}},
		{ID: "b", Text: strings.Join(b, " "), Dates: []time.Time{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{ID: "a-near", Text: strings.Join(c.mutate(a[:295], 2), " "), Dates: []time.Time{{}, time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)}},
		{ID: "a-exact", Text: "  " + strings.Join(a, "\n") + "\n"},
		{ID: "b-longer", Text: strings.Join(b, " ") + " " + strings.Join(c.words(10), " ")},
		{ID: "c", Text: strings.Join(c.words(300), " ")},
		{ID: "d-far", Text: strings.Join(c.mutate(a, 120), " ")},
		{ID: "empty", Text: ""},
		{ID: "empty2", Text: ""},
	}
	tests := []struct {
		name string
		cfg  Config
		want []Cluster // Similarity checked only for exact clusters
	}{
		{"earliest", DefaultConfig(), []Cluster{
			{Keep: "a", Drop: []string{"a-near", "a-exact"}},
			{Keep: "b", Drop: []string{"b-longer"}},
			{Keep: "empty", Drop: []string{"empty2"}, Exact: true, Similarity: 1},
		}},
		{"longest", Config{Exact: true, NearThreshold: 0.8, Keep: KeepLongest}, []Cluster{
			{Keep: "a", Drop: []string{"a-near", "a-exact"}},
			{Keep: "b-longer", Drop: []string{"b"}},
			{Keep: "empty", Drop: []string{"empty2"}, Exact: true, Similarity: 1},
		}},
		// The latest date wins; undated members (a-exact, b-longer) lose
		// to dated ones, and among undated ones the earliest added stays.
		{"newest", Config{Exact: true, NearThreshold: 0.8, Keep: KeepNewest}, []Cluster{
			{Keep: "b", Drop: []string{"b-longer"}},
			{Keep: "a-near", Drop: []string{"a", "a-exact"}},
			{Keep: "empty", Drop: []string{"empty2"}, Exact: true, Similarity: 1},
		}},
		{"exact only", Config{Exact: true}, []Cluster{
			{Keep: "a", Drop: []string{"a-exact"}, Exact: true, Similarity: 1},
			{Keep: "empty", Drop: []string{"empty2"}, Exact: true, Similarity: 1},
		}},
		{"near only", Config{NearThreshold: 0.8}, []Cluster{
			{Keep: "a", Drop: []string{"a-near", "a-exact"}},
			{Keep: "b", Drop: []string{"b-longer"}},
		}},
		{"char shingles", Config{NearThreshold: 0.8, ShingleUnit: UnitChar}, []Cluster{
			{Keep: "a", Drop: []string{"a-near", "a-exact"}},
			{Keep: "b", Drop: []string{"b-longer"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := NewIndex(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := ix.AddAll(context.Background(), docs); err != nil {
				t.Fatal(err)
			}
			rep := ix.Clusters()
			if rep.Documents != len(docs) {
				t.Fatalf("Documents = %d", rep.Documents)
			}
			if len(rep.Clusters) != len(tt.want) {
				t.Fatalf("clusters = %+v, want %+v", rep.Clusters, tt.want)
			}
			dropped := 0
			for i, w := range tt.want {
				g := rep.Clusters[i]
				dropped += len(w.Drop)
				if g.Keep != w.Keep || strings.Join(g.Drop, ",") != strings.Join(w.Drop, ",") || g.Exact != w.Exact {
					t.Fatalf("cluster %d = %+v, want %+v", i, g, w)
				}
				if w.Exact && g.Similarity != 1 {
					t.Fatalf("exact cluster similarity %v", g.Similarity)
				}
				if !w.Exact && (g.Similarity < tt.cfg.NearThreshold || g.Similarity > 1) {
					t.Fatalf("near cluster similarity %v below threshold", g.Similarity)
				}
			}
			if rep.Dropped != dropped {
				t.Fatalf("Dropped = %d, want %d", rep.Dropped, dropped)
			}
		})
	}
}

func TestIndexAddMatchesAddAll(t *testing.T) {
	c := newCorpus(2)
	var docs []Document
	for i := range 200 {
		w := c.words(120)
		docs = append(docs, Document{ID: fmt.Sprintf("d%d", i), Text: strings.Join(w, " ")})
		if i%10 == 0 {
			docs = append(docs, Document{ID: fmt.Sprintf("d%d-dup", i), Text: strings.Join(c.mutate(w, 1), " ")})
		}
	}
	one, _ := NewIndex(DefaultConfig())
	for _, d := range docs {
		if err := one.Add(d.ID, d.Text); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := NewIndex(DefaultConfig())
	if err := all.AddAll(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	r1, r2 := one.Clusters(), all.Clusters()
	if fmt.Sprint(r1) != fmt.Sprint(r2) {
		t.Fatalf("Add and AddAll differ:\n%v\n%v", r1, r2)
	}
	if len(r1.Clusters) != 20 {
		t.Fatalf("found %d clusters, want 20 planted", len(r1.Clusters))
	}
}

func TestIndexErrors(t *testing.T) {
	ix, err := NewIndex(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Add("x", "text"); err != nil {
		t.Fatal(err)
	}
	if err := ix.Add("x", "other"); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("Add duplicate = %v", err)
	}
	if err := ix.AddAll(context.Background(), []Document{{ID: "y", Text: "a"}, {ID: "y", Text: "b"}}); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("AddAll duplicate = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	docs := make([]Document, 1000)
	for i := range docs {
		docs[i] = Document{ID: fmt.Sprint(i), Text: "text"}
	}
	if err := ix.AddAll(ctx, docs); !errors.Is(err, context.Canceled) {
		t.Fatalf("AddAll cancelled = %v", err)
	}
	if ix.Len() != 1 {
		t.Fatalf("Len = %d after failed adds, want 1", ix.Len())
	}
	if _, err := NewIndex(Config{Bands: 1000}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("NewIndex(bad) = %v", err)
	}
}

func TestLargeBucketStaysLinear(t *testing.T) {
	ix, _ := NewIndex(Config{NearThreshold: 0.8})
	text := tokens(0, 50)
	for i := range 2000 {
		if err := ix.Add(fmt.Sprint(i), text); err != nil {
			t.Fatal(err)
		}
	}
	rep := ix.Clusters()
	if len(rep.Clusters) != 1 || len(rep.Clusters[0].Drop) != 1999 {
		t.Fatalf("want one cluster of 2000, got %d clusters", len(rep.Clusters))
	}
	if rep.CandidatePairs > maxAllPairs*2000 {
		t.Fatalf("verified %d pairs for one bucket of 2000", rep.CandidatePairs)
	}
}

func TestIndexConcurrentAdd(t *testing.T) {
	c := newCorpus(3)
	ix, _ := NewIndex(DefaultConfig())
	var docs []Document
	for i := range 400 {
		docs = append(docs, Document{ID: fmt.Sprintf("d%d", i), Text: strings.Join(c.words(80), " ")})
	}
	done := make(chan error, 4)
	for w := range 4 {
		go func() {
			for i := w; i < len(docs); i += 4 {
				if err := ix.Add(docs[i].ID, docs[i].Text); err != nil {
					done <- err
					return
				}
				if i%50 == 0 {
					ix.Clusters()
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if ix.Len() != len(docs) {
		t.Fatalf("Len = %d, want %d", ix.Len(), len(docs))
	}
	if rep := ix.Clusters(); len(rep.Clusters) != 0 {
		t.Fatalf("unrelated documents clustered: %+v", rep.Clusters)
	}
}
