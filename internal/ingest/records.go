package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/dedup"
)

// processRecords makes a version of an instruction, preference or chat
// dataset: PII redaction of every text field, exact and near-duplicate
// removal over the record's text, length filters and splits.
func (in *Ingester) processRecords(ctx context.Context, orgID, actorID, jobID string, ds *dataset.Dataset, cfg ProcessConfig, progress func(float64, string)) (*dataset.Version, *ProcessReport, bool, error) {
	cfg = cfg.Defaults()
	// Quality filters are for documents; records keep only the length bounds.
	cfg.Filters.Languages = nil
	if err := cfg.Validate(); err != nil {
		return nil, nil, false, err
	}
	progress(0.05, "loading records")
	type rec struct {
		key string
		r   dataset.Record
	}
	var recs []rec
	if err := in.Datasets.Records(ctx, ds.ID, func(digest string, r dataset.Record) error {
		recs = append(recs, rec{key: r.Key(), r: r})
		return nil
	}); err != nil {
		return nil, nil, false, err
	}
	rep := &ProcessReport{Documents: len(recs), Redaction: RedactionReport{ByType: map[string]int{}}}
	var red *redactor
	if cfg.Redact.Enabled {
		var err error
		if red, err = newRedactor(cfg.Redact, in.SecretKey); err != nil {
			return nil, nil, false, err
		}
	}
	progress(0.3, "redacting PII")
	var idx *dedup.Index
	if cfg.Dedup.Exact || cfg.Dedup.NearThreshold > 0 {
		var err error
		if idx, err = dedup.NewIndex(*cfg.Dedup); err != nil {
			return nil, nil, false, fmt.Errorf("%w: dedup: %v", ErrConfig, err)
		}
	}
	texts := map[string]*dataset.Record{}
	var order []string
	for i := range recs {
		r := &recs[i].r
		if red != nil {
			var spans []RedactedSpan
			for _, f := range recordFields(r) {
				var s []RedactedSpan
				*f, s = red.redact(*f)
				spans = append(spans, s...)
			}
			rep.Redaction.add(recs[i].key, "", spans)
		}
		all := strings.Join(recordTexts(r), "\n")
		n := len([]rune(all))
		if cfg.Filters.MinChars > 0 && n < cfg.Filters.MinChars || cfg.Filters.MaxChars > 0 && n > cfg.Filters.MaxChars {
			rep.Filtered = append(rep.Filtered, FilteredDoc{ID: recs[i].key, Reason: "length", Detail: fmt.Sprintf("%d characters", n)})
			continue
		}
		texts[recs[i].key] = r
		order = append(order, recs[i].key)
		if idx != nil {
			if err := idx.Add(recs[i].key, all); err != nil {
				return nil, nil, false, err
			}
		}
	}
	drop := map[string]bool{}
	if idx != nil {
		rep.Dedup = idx.Clusters()
		for _, c := range rep.Dedup.Clusters {
			for _, id := range c.Drop {
				drop[id] = true
			}
		}
	}
	progress(0.7, "writing version")
	m := &dataset.Manifest{Kind: ds.Kind}
	stats := dataset.Stats{PII: rep.Redaction.ByType, Filtered: map[string]int{}}
	var lengths []int
	for _, key := range order {
		if drop[key] {
			continue
		}
		r := texts[key]
		b, err := dataset.Canonical(r)
		if err != nil {
			return nil, nil, false, err
		}
		info, err := in.Datasets.Blobs().Put(ctx, strings.NewReader(string(b)))
		if err != nil {
			return nil, nil, false, err
		}
		m.Items = append(m.Items, dataset.Item{ID: key, Digest: string(info.Digest)})
		lengths = append(lengths, r.Length())
	}
	if err := finishManifest(m, &stats, rep, cfg, lengths); err != nil {
		return nil, nil, false, err
	}
	v, created, err := in.Datasets.CreateVersion(ctx, orgID, ds, dataset.NewVersion{Manifest: m, Stats: stats, Report: rep,
		Change: dataset.ChangeMinor, JobID: jobID, ActorID: actorID})
	if err != nil {
		return nil, nil, false, err
	}
	progress(1, "done")
	return v, rep, created, nil
}

// recordFields returns pointers to every free-text field of a record.
func recordFields(r *dataset.Record) []*string {
	out := []*string{&r.Text, &r.Instruction, &r.Input, &r.Output, &r.Prompt, &r.Chosen, &r.Rejected}
	for i := range r.Messages {
		out = append(out, &r.Messages[i].Content)
	}
	return out
}

func recordTexts(r *dataset.Record) []string {
	var out []string
	for _, f := range recordFields(r) {
		if *f != "" {
			out = append(out, *f)
		}
	}
	return out
}

func dedupDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
