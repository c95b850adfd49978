package dataset

import (
	"fmt"
	"sort"
	"strings"
)

// Stats summarise a version for its card and its API view.
type Stats struct {
	Items     int            `json:"items"`
	Sources   int            `json:"sources"`
	Languages map[string]int `json:"languages,omitempty"`
	Lengths   []Bucket       `json:"length_histogram"` // characters per item
	PII       map[string]int `json:"pii,omitempty"`    // redacted spans by type
	Dedup     DedupStats     `json:"dedup"`
	Labels    map[string]int `json:"labels,omitempty"`
	Splits    map[string]int `json:"splits,omitempty"`
	Filtered  map[string]int `json:"filtered,omitempty"` // items dropped by quality filters, by reason
}

// DedupStats counts what deduplication removed.
type DedupStats struct {
	ExactDropped int `json:"exact_dropped"`
	NearDropped  int `json:"near_dropped"`
	NearClusters int `json:"near_clusters"`
}

// Bucket is one bin of a length histogram: items with Min ≤ length < Max
// (Max 0 means unbounded).
type Bucket struct {
	Min   int `json:"min"`
	Max   int `json:"max"`
	Count int `json:"count"`
}

// lengthEdges are the histogram's bin edges in characters.
var lengthEdges = []int{0, 64, 256, 1024, 4096, 16384, 65536}

// LengthHistogram bins lengths.
func LengthHistogram(lengths []int) []Bucket {
	out := make([]Bucket, len(lengthEdges))
	for i, lo := range lengthEdges {
		out[i].Min = lo
		if i+1 < len(lengthEdges) {
			out[i].Max = lengthEdges[i+1]
		}
	}
	for _, n := range lengths {
		i := sort.SearchInts(lengthEdges, n+1) - 1
		out[i].Count++
	}
	return out
}

// CardInput is what a dataset card describes.
type CardInput struct {
	URI         URI
	Description string
	LineageHash string
	CreatedAt   string
	Manifest    *Manifest
	Stats       Stats
}

// Card renders the dataset card as Markdown.
func Card(in CardInput) string {
	var b strings.Builder
	m := in.Manifest
	fmt.Fprintf(&b, "# Dataset card: %s\n\n", in.URI)
	if in.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", in.Description)
	}
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| Kind | %s |\n| Items | %d |\n| Lineage hash | `%s` |\n", m.Kind, in.Stats.Items, in.LineageHash)
	if in.CreatedAt != "" {
		fmt.Fprintf(&b, "| Created | %s |\n", in.CreatedAt)
	}
	if len(m.Parents) > 0 {
		fmt.Fprintf(&b, "| Parents | %s |\n", "`"+strings.Join(m.Parents, "`, `")+"`")
	}
	b.WriteString("\n## Sources\n\n")
	if len(m.Sources) == 0 {
		b.WriteString("None recorded.\n")
	} else {
		b.WriteString("| id | type | uri | hash |\n|---|---|---|---|\n")
		for _, s := range m.Sources {
			fmt.Fprintf(&b, "| %s | %s | %s | `%s` |\n", s.ID, s.Type, mdEscape(s.URI), short(s.Hash))
		}
	}
	writeCounts(&b, "Languages", "language", in.Stats.Languages)
	b.WriteString("\n## Length histogram (characters)\n\n| range | items |\n|---|---|\n")
	for _, bk := range in.Stats.Lengths {
		hi := "∞"
		if bk.Max > 0 {
			hi = fmt.Sprint(bk.Max)
		}
		fmt.Fprintf(&b, "| %d–%s | %d |\n", bk.Min, hi, bk.Count)
	}
	writeCounts(&b, "PII redacted", "type", in.Stats.PII)
	fmt.Fprintf(&b, "\n## Deduplication\n\n- exact duplicates dropped: %d\n- near-duplicates dropped: %d (in %d clusters)\n",
		in.Stats.Dedup.ExactDropped, in.Stats.Dedup.NearDropped, in.Stats.Dedup.NearClusters)
	writeCounts(&b, "Filtered by quality rules", "reason", in.Stats.Filtered)
	writeCounts(&b, "Labels", "label", in.Stats.Labels)
	writeCounts(&b, "Splits", "split", in.Stats.Splits)
	if len(m.Mix) > 0 {
		b.WriteString("\n## Mix\n\n| dataset | version | weight | items |\n|---|---|---|---|\n")
		for _, e := range m.Mix {
			fmt.Fprintf(&b, "| %s | `%s` | %.3f | %d |\n", e.Dataset, short(e.LineageHash), e.Weight, e.Count)
		}
	}
	if len(m.Processing) > 2 {
		fmt.Fprintf(&b, "\n## Processing\n\n```json\n%s\n```\n", m.Processing)
	}
	return b.String()
}

func writeCounts(b *strings.Builder, title, col string, counts map[string]int) {
	if len(counts) == 0 {
		return
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	fmt.Fprintf(b, "\n## %s\n\n| %s | items |\n|---|---|\n", title, col)
	for _, k := range keys {
		fmt.Fprintf(b, "| %s | %d |\n", mdEscape(k), counts[k])
	}
}

func short(h string) string {
	if len(h) > 19 {
		return h[:19] + "…"
	}
	return h
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
