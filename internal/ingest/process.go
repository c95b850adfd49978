package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/dedup"
	"github.com/whet-dev/whet/internal/normalize"
	"github.com/whet-dev/whet/internal/pii"
)

// ProcessConfig is the body of POST /v1/datasets/{id}/process. Every part is
// optional; Defaults fills the documented defaults: redaction of every PII
// type with masks, exact and near-duplicate (Jaccard ≥ 0.8) removal keeping
// the earliest, NFKC + whitespace normalisation with boilerplate lines
// (repeated in ≥ 3 documents of a source) removed, the default quality
// filters, no weak labels and no splits.
type ProcessConfig struct {
	Redact     *RedactConfig      `json:"redact,omitempty"`
	Dedup      *dedup.Config      `json:"dedup,omitempty"`
	Normalize  *NormalizeConfig   `json:"normalize,omitempty"`
	Filters    *normalize.Filters `json:"filters,omitempty"`
	WeakLabels *WeakLabelConfig   `json:"weak_labels,omitempty"`
	Splits     *SplitConfig       `json:"splits,omitempty"`
	// Synthesize, when set, also writes extractive QA pairs made from the
	// new version's documents to an instruction dataset (see SynthConfig).
	Synthesize *SynthConfig `json:"synthesize,omitempty"`
	// Mine, when set, also writes chat and preference records mined from
	// the new version's conversation logs (see MineConfig).
	Mine *MineConfig `json:"mine,omitempty"`
}

// NormalizeConfig is the "normalize" part of ProcessConfig.
type NormalizeConfig struct {
	Unicode            *bool `json:"unicode,omitempty"`              // NFKC + whitespace; default true
	BoilerplateMinDocs int   `json:"boilerplate_min_docs,omitempty"` // default 3; -1 turns boilerplate removal off
}

// SplitConfig assigns deterministic train/validation/test splits.
type SplitConfig struct {
	dataset.Fractions
	Seed string `json:"seed,omitempty"`
}

// Defaults returns c with every omitted part set to its default.
func (c ProcessConfig) Defaults() ProcessConfig {
	if c.Redact == nil {
		c.Redact = &RedactConfig{Enabled: true}
	}
	if c.Redact.Mode == "" {
		c.Redact.Mode = pii.ModeMask
	}
	if c.Dedup == nil {
		d := dedup.DefaultConfig()
		c.Dedup = &d
	}
	if c.Normalize == nil {
		c.Normalize = &NormalizeConfig{}
	}
	if c.Normalize.Unicode == nil {
		t := true
		c.Normalize.Unicode = &t
	}
	if c.Normalize.BoilerplateMinDocs == 0 {
		c.Normalize.BoilerplateMinDocs = 3
	}
	if c.Filters == nil {
		f := normalize.DefaultFilters()
		c.Filters = &f
	}
	return c
}

// Validate checks every part.
func (c ProcessConfig) Validate() error {
	if err := c.Redact.Validate(); err != nil && !errors.Is(err, pii.ErrNoKey) {
		return fmt.Errorf("%w: redact: %v", ErrConfig, err)
	}
	if err := c.Dedup.Validate(); err != nil {
		return fmt.Errorf("%w: dedup: %v", ErrConfig, err)
	}
	if err := c.Filters.Validate(); err != nil {
		return fmt.Errorf("%w: filters: %v", ErrConfig, err)
	}
	if c.WeakLabels != nil {
		if _, err := c.WeakLabels.compile(); err != nil {
			return err
		}
	}
	if c.Splits != nil {
		if err := c.Splits.Fractions.Validate(); err != nil {
			return fmt.Errorf("%w: splits: %v", ErrConfig, err)
		}
	}
	if err := c.Synthesize.Validate(); err != nil {
		return err
	}
	return c.Mine.Validate()
}

// ProcessReport is what processing did, shown with the new version.
type ProcessReport struct {
	Documents   int             `json:"documents"`
	Kept        int             `json:"kept"`
	Redaction   RedactionReport `json:"redaction"`
	Dedup       dedup.Report    `json:"dedup"`
	Filtered    []FilteredDoc   `json:"filtered"`
	Boilerplate int             `json:"boilerplate_lines_removed"`
	Labels      map[string]int  `json:"labels,omitempty"`
	// Names maps the fingerprints in dedup clusters to their source URIs.
	Names map[string]string `json:"names,omitempty"`
	// Synthesis and Mining report the derived versions (in the job result;
	// the version's stored report is written before they run).
	Synthesis *SynthReport `json:"synthesis,omitempty"`
	Mining    *MineReport  `json:"mining,omitempty"`
}

// FilteredDoc is a document a quality filter dropped.
type FilteredDoc struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

type procDoc struct {
	doc   *dataset.Document
	text  string
	label string
	lang  string
}

// docDates are a document's revision dates for dedup's "newest" policy, in
// order of precedence: its metadata's modified date (front matter
// updated/last_modified, Office core properties), created (front matter
// date), and timestamp (the source's modification time at ingestion). A
// date that is missing or does not parse is zero.
func docDates(meta map[string]any) []time.Time {
	keys := []string{"modified", "created", "timestamp"}
	out := make([]time.Time, len(keys))
	for i, k := range keys {
		v, _ := meta[k].(string)
		v = strings.TrimSpace(v)
		if t, err := time.Parse(time.DateOnly, v); err == nil {
			out[i] = t
		} else if t, err := time.Parse(time.RFC3339, strings.Replace(v, " ", "T", 1)); err == nil {
			out[i] = t
		}
	}
	return out
}

// Process turns the dataset's active documents into a new version: it
// normalises their text, strips boilerplate, applies the quality filters,
// redacts PII, removes exact and near duplicates, assigns weak labels and
// splits, stores each processed text in the blob store and records the
// version with a manifest whose lineage hash depends only on the documents
// and the config. The same documents and config give the same version
// (created=false on a re-run).
func (in *Ingester) Process(ctx context.Context, orgID, actorID, jobID string, ds *dataset.Dataset, cfg ProcessConfig, progress func(frac float64, stage string)) (*dataset.Version, *ProcessReport, bool, error) {
	if progress == nil {
		progress = func(float64, string) {}
	}
	if ds.Kind != dataset.KindDocuments && (cfg.Synthesize != nil || cfg.Mine != nil) {
		return nil, nil, false, fmt.Errorf("%w: synthesize and mine read documents; dataset %s holds %s records", ErrConfig, ds.ID, ds.Kind)
	}
	if ds.Kind != dataset.KindDocuments {
		return in.processRecords(ctx, orgID, actorID, jobID, ds, cfg, progress)
	}
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, nil, false, err
	}
	if err := in.checkTargets(ctx, orgID, cfg); err != nil {
		return nil, nil, false, err
	}
	progress(0.02, "loading documents")
	var docs []*procDoc
	err := in.Datasets.ActiveDocuments(ctx, ds.ID, func(d *dataset.Document) error {
		b, err := in.Datasets.ReadBlob(ctx, d.TextDigest)
		if err != nil {
			return fmt.Errorf("document %s: %w", d.ID, err)
		}
		docs = append(docs, &procDoc{doc: d, text: string(b)})
		return nil
	})
	if err != nil {
		return nil, nil, false, err
	}
	// Documents arrive in fingerprint order; process them in source order so
	// that "keep earliest" keeps the first file of a source listing.
	sort.SliceStable(docs, func(i, j int) bool { return docs[i].doc.SourceKey < docs[j].doc.SourceKey })
	rep := &ProcessReport{Documents: len(docs), Redaction: RedactionReport{ByType: map[string]int{}}}

	progress(0.1, "normalising")
	if *cfg.Normalize.Unicode {
		for _, d := range docs {
			d.text = normalize.Text(d.text)
		}
	}
	if cfg.Normalize.BoilerplateMinDocs > 0 {
		bp := normalize.NewBoilerplate(cfg.Normalize.BoilerplateMinDocs)
		for _, d := range docs {
			bp.Observe(sourceGroup(d.doc), d.text)
		}
		for _, d := range docs {
			var n int
			d.text, n = bp.Strip(sourceGroup(d.doc), d.text)
			rep.Boilerplate += n
		}
	}

	progress(0.25, "filtering")
	kept := docs[:0]
	for _, d := range docs {
		v := cfg.Filters.Check(d.text, in.Lang)
		d.lang = v.Language.Code
		if !v.Keep {
			rep.Filtered = append(rep.Filtered, FilteredDoc{ID: d.doc.Fingerprint, Source: d.doc.SourceURI, Reason: string(v.Reason), Detail: v.Detail})
			continue
		}
		kept = append(kept, d)
	}
	docs = kept

	progress(0.4, "redacting PII")
	if cfg.Redact.Enabled {
		red, err := newRedactor(cfg.Redact, in.SecretKey)
		if err != nil {
			return nil, nil, false, err
		}
		for i, d := range docs {
			if err := ctx.Err(); err != nil {
				return nil, nil, false, err
			}
			text, spans := red.redact(d.text)
			d.text = text
			rep.Redaction.add(d.doc.Fingerprint, d.doc.SourceURI, spans)
			if i%64 == 0 {
				progress(0.4+0.25*float64(i)/float64(len(docs)), "redacting PII")
			}
		}
	}

	progress(0.65, "deduplicating")
	byID := make(map[string]*procDoc, len(docs))
	if cfg.Dedup.Exact || cfg.Dedup.NearThreshold > 0 {
		idx, err := dedup.NewIndex(*cfg.Dedup)
		if err != nil {
			return nil, nil, false, fmt.Errorf("%w: dedup: %v", ErrConfig, err)
		}
		for _, d := range docs {
			byID[d.doc.Fingerprint] = d
			if err := idx.AddDated(d.doc.Fingerprint, d.text, docDates(d.doc.Metadata)...); err != nil {
				return nil, nil, false, err
			}
		}
		rep.Dedup = idx.Clusters()
		drop := map[string]bool{}
		rep.Names = map[string]string{}
		for _, c := range rep.Dedup.Clusters {
			rep.Names[c.Keep] = byID[c.Keep].doc.SourceKey
			for _, id := range c.Drop {
				drop[id] = true
				rep.Names[id] = byID[id].doc.SourceKey
			}
		}
		kept = docs[:0]
		for _, d := range docs {
			if !drop[d.doc.Fingerprint] {
				kept = append(kept, d)
			}
		}
		docs = kept
	}

	progress(0.75, "labelling")
	m := &dataset.Manifest{Kind: ds.Kind}
	if cfg.WeakLabels != nil {
		prov, err := labelDocs(cfg.WeakLabels, docs)
		if err != nil {
			return nil, nil, false, err
		}
		m.WeakLabels = prov
	}

	progress(0.8, "writing version")
	stats := dataset.Stats{Languages: map[string]int{}, PII: rep.Redaction.ByType, Labels: map[string]int{}, Filtered: map[string]int{}}
	sources := map[string]dataset.Source{}
	var lengths []int
	srcHashes := map[string][]string{}
	var synthDocs []SynthDoc
	for _, d := range docs {
		info, err := in.Datasets.Blobs().Put(ctx, strings.NewReader(d.text))
		if err != nil {
			return nil, nil, false, fmt.Errorf("store processed text: %w", err)
		}
		if cfg.Synthesize != nil {
			synthDocs = append(synthDocs, synthDocOf(d.doc, d.text, string(info.Digest)))
		}
		src := sourceOf(d.doc)
		sources[src.ID] = src
		srcHashes[src.ID] = append(srcHashes[src.ID], d.doc.SourceKey+"\x00"+d.doc.ContentDigest)
		it := dataset.Item{ID: d.doc.Fingerprint, Digest: string(info.Digest), Label: d.label, Source: src.ID}
		m.Items = append(m.Items, it)
		lengths = append(lengths, len([]rune(d.text)))
		if d.lang != "" {
			stats.Languages[d.lang]++
		}
		if d.label != "" {
			stats.Labels[d.label]++
		}
	}
	for id, src := range sources {
		src.Hash = hashStrings(srcHashes[id])
		m.Sources = append(m.Sources, src)
	}
	if err := finishManifest(m, &stats, rep, cfg, lengths); err != nil {
		return nil, nil, false, err
	}
	rep.Kept = len(m.Items)
	rep.Labels = stats.Labels
	v, created, err := in.Datasets.CreateVersion(ctx, orgID, ds, dataset.NewVersion{Manifest: m, Stats: stats, Report: rep,
		Change: dataset.ChangeMinor, JobID: jobID, ActorID: actorID})
	if err != nil {
		return nil, nil, false, err
	}
	if cfg.Synthesize != nil {
		progress(0.9, "synthesizing instructions")
		if rep.Synthesis, err = in.synthesize(ctx, orgID, actorID, jobID, v, synthDocs, *cfg.Synthesize); err != nil {
			return nil, nil, false, err
		}
	}
	if cfg.Mine != nil {
		progress(0.95, "mining conversations")
		kept := make([]*dataset.Document, len(docs))
		for i, d := range docs {
			kept[i] = d.doc
		}
		if rep.Mining, err = in.mine(ctx, orgID, actorID, jobID, v, kept, *cfg.Mine, cfg.Redact); err != nil {
			return nil, nil, false, err
		}
	}
	progress(1, "done")
	return v, rep, created, nil
}

// sourceGroup is the unit boilerplate detection compares documents within:
// the registered source, or for uploads the top folder of the path.
func sourceGroup(d *dataset.Document) string {
	if d.SourceID != "" {
		return d.SourceID
	}
	if i := strings.IndexByte(d.SourceKey, '/'); i >= 0 {
		return "upload:" + d.SourceKey[:i]
	}
	return "upload"
}

// sourceOf names a document's source in the manifest with a content-derived
// id, so that a fresh data directory reproduces the same manifest.
func sourceOf(d *dataset.Document) dataset.Source {
	typ, _ := d.Metadata["source_type"].(string)
	if typ == "" {
		typ = "upload"
	}
	uri := d.SourceURI
	if d.SourceID != "" {
		if u, ok := d.Metadata["source_root"].(string); ok {
			uri = u
		}
	}
	return dataset.Source{ID: "src:" + hashStrings([]string{typ, uri})[7:23], Type: typ, URI: uri}
}

func hashStrings(parts []string) string {
	sorted := append([]string(nil), parts...)
	sort.Strings(sorted)
	b, _ := json.Marshal(sorted)
	return string(dedupDigest(b))
}

// ValidateProcess checks a processing config before a job is queued, with
// the server's own settings (pseudonyms need the secret key).
func (in *Ingester) ValidateProcess(cfg ProcessConfig) error {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Redact.Enabled {
		if _, err := newRedactor(cfg.Redact, in.SecretKey); err != nil {
			return err
		}
	}
	return nil
}

// finishManifest completes a version's manifest and stats from what
// processing did: splits, the processing config as applied, filter and
// dedup counts, item count and length histogram. Documents and record
// datasets share it.
func finishManifest(m *dataset.Manifest, stats *dataset.Stats, rep *ProcessReport, cfg ProcessConfig, lengths []int) error {
	if cfg.Splits != nil {
		if err := dataset.AssignSplits(m, cfg.Splits.Seed, cfg.Splits.Fractions); err != nil {
			return err
		}
		stats.Splits = map[string]int{}
		for _, it := range m.Items {
			stats.Splits[it.Split]++
		}
	}
	procJSON, err := dataset.Canonical(cfg)
	if err != nil {
		return err
	}
	m.Processing = json.RawMessage(procJSON)
	if stats.Filtered == nil {
		stats.Filtered = map[string]int{}
	}
	for _, f := range rep.Filtered {
		stats.Filtered[f.Reason]++
	}
	stats.Items = len(m.Items)
	stats.Sources = len(m.Sources)
	stats.Lengths = dataset.LengthHistogram(lengths)
	for _, c := range rep.Dedup.Clusters {
		if c.Exact {
			stats.Dedup.ExactDropped += len(c.Drop)
		} else {
			stats.Dedup.NearDropped += len(c.Drop)
			stats.Dedup.NearClusters++
		}
	}
	rep.Kept = len(m.Items)
	return nil
}
