package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/normalize"
)

// derivedVersion writes records made from a source version (synthesis,
// mining) as a new version of a target record dataset: the records are added
// to the target (idempotent by digest) and the manifest lists exactly them,
// with the source version's lineage hash as its parent and the step's config
// as its processing.
func (in *Ingester) derivedVersion(ctx context.Context, orgID, actorID, jobID, targetID string, want dataset.Kind,
	parent *dataset.Version, step string, stepCfg any, recs []dataset.Record, stats dataset.Stats, report any) (*dataset.Version, bool, error) {
	target, err := in.Datasets.Get(ctx, orgID, targetID)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %s: target dataset: %w", ErrConfig, step, err)
	}
	if target.Kind != want {
		return nil, false, fmt.Errorf("%w: %s: dataset %s is a %s dataset, want %s", ErrConfig, step, target.ID, target.Kind, want)
	}
	if _, err := in.Datasets.AddRecords(ctx, orgID, target.ID, "", recs); err != nil {
		return nil, false, err
	}
	m := &dataset.Manifest{Kind: want, Parents: []string{parent.LineageHash},
		Sources: []dataset.Source{{ID: "version:" + parent.LineageHash, Type: "dataset_version", URI: parent.URI, Hash: parent.LineageHash}}}
	var lengths []int
	seen := map[string]bool{}
	for i := range recs {
		key := recs[i].Key()
		if seen[key] {
			continue
		}
		seen[key] = true
		b, err := dataset.Canonical(&recs[i])
		if err != nil {
			return nil, false, err
		}
		info, err := in.Datasets.Blobs().Put(ctx, strings.NewReader(string(b)))
		if err != nil {
			return nil, false, fmt.Errorf("%s: store record: %w", step, err)
		}
		m.Items = append(m.Items, dataset.Item{ID: key, Digest: string(info.Digest), Source: "version:" + parent.LineageHash})
		lengths = append(lengths, recs[i].Length())
	}
	proc, err := dataset.Canonical(map[string]any{step: stepCfg})
	if err != nil {
		return nil, false, err
	}
	m.Processing = json.RawMessage(proc)
	stats.Items, stats.Sources, stats.Lengths = len(m.Items), 1, dataset.LengthHistogram(lengths)
	return in.Datasets.CreateVersion(ctx, orgID, target, dataset.NewVersion{Manifest: m, Stats: stats, Report: report,
		Change: dataset.ChangeMinor, JobID: jobID, ActorID: actorID})
}

// synthesize runs document → instruction synthesis on the documents of a
// freshly made version.
func (in *Ingester) synthesize(ctx context.Context, orgID, actorID, jobID string, v *dataset.Version, docs []SynthDoc, cfg SynthConfig) (*SynthReport, error) {
	recs := Synthesize(docs, cfg)
	rep := &SynthReport{TargetDatasetID: cfg.TargetDatasetID, Pairs: len(recs), ByType: map[string]int{}}
	labels := map[string]int{}
	for _, r := range recs {
		t, _ := r.Metadata["synthesis"].(string)
		rep.ByType[t]++
		labels[t]++
	}
	out, created, err := in.derivedVersion(ctx, orgID, actorID, jobID, cfg.TargetDatasetID, dataset.KindInstruction, v,
		"synthesize", cfg.withDefaults(), recs, dataset.Stats{Labels: labels}, rep)
	if err != nil {
		return nil, err
	}
	rep.Version, rep.LineageHash, rep.Created = out.Version, out.LineageHash, created
	return rep, nil
}

// synthDocOf builds the synthesis input of one processed document.
func synthDocOf(d *dataset.Document, text, digest string) SynthDoc {
	sd := SynthDoc{Fingerprint: d.Fingerprint, TextDigest: digest, SourceURI: d.SourceURI, Text: text}
	sd.Title, _ = d.Metadata["title"].(string)
	sd.Timestamp, _ = d.Metadata["timestamp"].(string)
	if secs, ok := d.Metadata["sections"].([]any); ok {
		for _, s := range secs {
			m, _ := s.(map[string]any)
			path, _ := m["path"].([]any)
			if len(path) == 0 {
				continue
			}
			if h, ok := path[len(path)-1].(string); ok {
				sd.Headings = append(sd.Headings, strings.TrimSpace(normalize.Text(h)))
			}
		}
	}
	return sd
}

// checkTargets makes sure the synthesis and mining target datasets exist in
// the organisation with the right kinds before any version is written.
func (in *Ingester) checkTargets(ctx context.Context, orgID string, cfg ProcessConfig) error {
	check := func(step, id string, want dataset.Kind) error {
		if id == "" {
			return nil
		}
		t, err := in.Datasets.Get(ctx, orgID, id)
		if err != nil {
			return fmt.Errorf("%w: %s: target dataset: %w", ErrConfig, step, err)
		}
		if t.Kind != want {
			return fmt.Errorf("%w: %s: dataset %s is a %s dataset, want %s", ErrConfig, step, t.ID, t.Kind, want)
		}
		return nil
	}
	if cfg.Synthesize != nil {
		if err := check("synthesize", cfg.Synthesize.TargetDatasetID, dataset.KindInstruction); err != nil {
			return err
		}
	}
	if cfg.Mine != nil {
		if err := check("mine", cfg.Mine.ChatDatasetID, dataset.KindChat); err != nil {
			return err
		}
		return check("mine", cfg.Mine.PreferenceDatasetID, dataset.KindPreference)
	}
	return nil
}
