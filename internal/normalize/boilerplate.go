package normalize

import (
	"hash/fnv"
	"strings"
	"sync"
)

// Boilerplate finds lines repeated across many documents of one source
// (page headers, footers, navigation, legal notices) and removes them.
//
// It is used in two passes: [Boilerplate.Observe] every document of a
// source, then [Boilerplate.Strip] each of them. A line counts once per
// document however often it appears in it. The zero value is not usable;
// build one with [NewBoilerplate]. Methods are safe for concurrent use.
type Boilerplate struct {
	minDocs int
	mu      sync.Mutex
	counts  map[string]map[uint64]int // source → line hash → documents containing it
	docs    map[string]int            // source → documents observed
}

// NewBoilerplate returns a detector that treats a line as boilerplate once
// it appears in at least minDocs documents of the same source. minDocs
// below 2 is raised to 2: a line in a single document is content.
func NewBoilerplate(minDocs int) *Boilerplate {
	if minDocs < 2 {
		minDocs = 2
	}
	return &Boilerplate{
		minDocs: minDocs,
		counts:  make(map[string]map[uint64]int),
		docs:    make(map[string]int),
	}
}

func lineKey(line string) (uint64, bool) {
	line = strings.TrimSpace(line)
	if line == "" {
		return 0, false
	}
	h := fnv.New64a()
	h.Write([]byte(line))
	return h.Sum64(), true
}

// Observe records the distinct non-blank lines of one document of source.
func (b *Boilerplate) Observe(source, text string) {
	seen := make(map[uint64]struct{})
	for line := range strings.SplitSeq(text, "\n") {
		if k, ok := lineKey(line); ok {
			seen[k] = struct{}{}
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.counts[source]
	if m == nil {
		m = make(map[uint64]int)
		b.counts[source] = m
	}
	for k := range seen {
		m[k]++
	}
	b.docs[source]++
}

// IsBoilerplate reports whether line has been seen in at least the
// threshold number of documents of source.
func (b *Boilerplate) IsBoilerplate(source, line string) bool {
	k, ok := lineKey(line)
	if !ok {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.counts[source][k] >= b.minDocs
}

// Strip returns text without its boilerplate lines and the number of lines
// removed. Blank lines left behind are collapsed as [Text] would.
func (b *Boilerplate) Strip(source, text string) (string, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.counts[source]
	if m == nil {
		return text, 0
	}
	var out []string
	removed := 0
	for line := range strings.SplitSeq(text, "\n") {
		if k, ok := lineKey(line); ok && m[k] >= b.minDocs {
			removed++
			continue
		}
		out = append(out, line)
	}
	if removed == 0 {
		return text, 0
	}
	return collapseBlankLines(out), removed
}

func collapseBlankLines(lines []string) string {
	var b strings.Builder
	blank := 0
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			blank++
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
			if blank > 0 {
				b.WriteByte('\n')
			}
		}
		blank = 0
		b.WriteString(l)
	}
	return b.String()
}
